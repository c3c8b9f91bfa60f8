// One application: state, promised deadline, the timeline, and what the applicant can do
// now (supplement when asked, rate once completed). Actions are events for the page.
const { STATE_NAMES, fmtTime } = require('../../utils/format')

Component({
  properties: {
    application: { type: Object, value: null },
    rated: { type: Boolean, value: false },
  },
  data: { steps: [], stars: [1, 2, 3, 4, 5].map((n) => ({ n, on: false })), deadlineNote: '' },
  observers: {
    application(a) {
      if (!a) return
      const steps = (a.timeline || []).map((t) => ({ name: STATE_NAMES[t.state] || t.state, time: fmtTime(t.at), comment: t.comment || '' }))
      const note = a.clock_paused ? '（补正期间暂停计时）' : a.overdue ? '（已超期）'
        : a.remaining_working_days !== null && a.remaining_working_days !== undefined ? `（剩余 ${a.remaining_working_days} 个工作日）` : ''
      this.setData({ steps, deadlineNote: note })
    },
  },
  methods: {
    rate(e) {
      const score = Number(e.currentTarget.dataset.score)
      this.setData({ stars: this.data.stars.map((s) => ({ n: s.n, on: s.n <= score })) })
      this.triggerEvent('rate', { id: this.data.application.id, score })
    },
    supplement() { this.triggerEvent('supplement', { id: this.data.application.id }) },
  },
})
