// One application: its card (state, deadline or 办结 time, timeline, rating), its fee when the
// matter charges one (缴费 with WeChat Pay, 减免, refunds, the 电子票据: components/payment-card),
// 补正 with just the materials the clerk listed (each uploaded, then one submission), and
// withdrawing while it is still open; a 差评 can be taken to 12345 as a 投诉. Progress also
// arrives live (home page socket) and as subscribe messages.
const { api, showError, uploadFile } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

const OPEN = ['draft', 'submitted', 'in_review', 'supplement_requested', 'resubmitted']

Page({
  data: { a: null, rated: false, bad: false, wanted: [], uploads: {}, canWithdraw: false, finishedAt: '', busy: false, elder: false },
  onLoad({ id }) { this.id = id },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    await this.load()
    this.poll = setInterval(() => this.load().catch(() => {}), 15000)
  },
  onHide() { clearInterval(this.poll) },
  onUnload() { clearInterval(this.poll) },
  async load() {
    try { this.show(await api.get(`/api/v1/applications/${this.id}`)) } catch (e) { showError(e) }
    if (this.data.a && this.data.a.state === 'completed' && !this.data.rated) {
      // 404: not rated yet, the stars are shown
      const r = await api.get(`/api/v1/applications/${this.id}/rating`).catch(() => null)
      if (r) this.setData({ rated: true, bad: r.score <= 2 })
    }
  },
  show(a) {
    const items = (a.state === 'supplement_requested' && a.supplement && a.supplement.items) || []
    const wanted = a.materials.filter((m) => items.includes(m.id)).map((m) => ({ id: m.id, name: m.name || m.id }))
    this.setData({ a, wanted, canWithdraw: OPEN.includes(a.state), finishedAt: a.finished_at ? fmtTime(a.finished_at) : '' })
  },
  async rate(e) {
    try {
      await api.post(`/api/v1/applications/${this.id}/rating`, { score: e.detail.score, tags: [], comment: '' })
      this.setData({ rated: true, bad: e.detail.score <= 2 })
    } catch (err) {
      if (err.code === 'already_rated') this.load()
      else showError(err)
    }
  },
  async pick(e) {
    const id = e.currentTarget.dataset.id
    try {
      const up = await uploadFile()
      if (up) this.setData({ [`uploads.${id}`]: up.id })
    } catch (err) { showError(err) }
  },
  async resubmit() {
    const missing = this.data.wanted.filter((m) => !this.data.uploads[m.id]).map((m) => m.name)
    if (missing.length) { wx.showToast({ title: `请先上传：${missing.join('、')}`.slice(0, 40), icon: 'none' }); return }
    this.setData({ busy: true })
    try {
      const materials = this.data.wanted.map((m) => ({ id: m.id, upload_id: this.data.uploads[m.id] }))
      this.show(await api.post(`/api/v1/applications/${this.id}/resubmit`, { version: this.data.a.version, materials }))
      this.setData({ uploads: {} })
      wx.showToast({ title: '已提交补正' })
    } catch (err) { showError(err) } finally { this.setData({ busy: false }) }
  },
  // the fee moved (paid, or no longer due): the application says so too
  feeChanged() { return this.load() },
  // (a van-button has no url of its own, unlike a van-cell)
  go(e) { wx.navigateTo({ url: e.currentTarget.dataset.url }) },
  supplement() { wx.pageScrollTo({ selector: '.supplement-box', duration: 300 }) },
  withdraw() {
    wx.showModal({
      title: '撤回申请', content: '撤回后如需办理需重新提交，确定撤回？', confirmText: '撤回',
      success: async ({ confirm }) => {
        if (!confirm) return
        try {
          this.show(await api.post(`/api/v1/applications/${this.id}/withdraw`, { version: this.data.a.version }))
          wx.showToast({ title: '已撤回' })
        } catch (err) { showError(err) }
      },
    })
  },
})
