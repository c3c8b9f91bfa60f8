// One 诉求: what was filed, the department and due time, the answer, the timeline (who did
// what, when), and the 回访 once answered (不满意 sends it back to the department once). A
// 咨询 still waiting is offered the knowledge base's answers; "已解决" closes it on the spot.
const { api, errorText, showError } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

const FINISHED = ['archived', 'rejected', 'merged']
const RESULTS = [{ value: 'satisfied', label: '满意' }, { value: 'basic', label: '基本满意' }, { value: 'unsatisfied', label: '不满意' }]

Page({
  data: { t: null, steps: [], due: '', finished: false, results: RESULTS, loading: true, error: '', busy: false, elder: false },
  onLoad({ id }) { this.id = id },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    await this.load()
    this.poll = setInterval(() => this.load(true), 15000)
  },
  onHide() { clearInterval(this.poll) },
  onUnload() { clearInterval(this.poll) },
  async load(quiet) {
    if (!quiet) this.setData({ loading: !this.data.t, error: '' })
    try { this.show(await api.get(`/api/v1/tickets/${this.id}`)) } catch (e) {
      if (!quiet || !this.data.t) this.setData({ error: errorText(e) })
    } finally { this.setData({ loading: false }) }
  },
  show(t) {
    const steps = t.timeline.map((e) => ({ name: e.name, time: fmtTime(e.at), who: e.actor_name || '', comment: e.comment || '' }))
    const finished = FINISHED.includes(t.state)
    this.setData({ t, steps, finished, due: t.due_at && !finished ? fmtTime(t.due_at) : '' })
  },
  async callback(e) {
    const result = e.currentTarget.dataset.result
    this.setData({ busy: true })
    try {
      const t = await api.post(`/api/v1/tickets/${this.id}/callback`, { version: this.data.t.version, result })
      this.show(t)
      wx.showToast({ title: result === 'unsatisfied' && t.state === 'handling' ? '已转回部门重新办理' : '感谢您的评价', icon: 'none' })
    } catch (err) { showError(err); await this.load(true) } finally { this.setData({ busy: false }) }
  },
  async resolve(e) {
    try {
      this.show(await api.post(`/api/v1/tickets/${this.id}/resolve`, { version: this.data.t.version, answer_id: e.currentTarget.dataset.id }))
      wx.showToast({ title: '已按知识库答复办结', icon: 'none' })
    } catch (err) { showError(err) }
  },
})
