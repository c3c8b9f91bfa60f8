// One application, refreshed while open (progress also arrives as a subscribe message).
const { api, request, showError } = require('../../utils/api')
const { uploadFile } = require('../../utils/upload')

Page({
  data: { a: null, rated: false, elder: false },
  onLoad({ id }) { this.id = id },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    await this.load()
    this.poll = setInterval(() => this.load().catch(() => {}), 5000)
  },
  onHide() { clearInterval(this.poll) },
  onUnload() { clearInterval(this.poll) },
  async load() {
    try { this.setData({ a: await api.get(`/api/v1/applications/${this.id}`) }) } catch (e) { showError(e) }
  },
  async rate(e) {
    try {
      await api.post(`/api/v1/applications/${this.id}/rating`, { score: e.detail.score, tags: [], comment: '' })
      this.setData({ rated: true })
    } catch (err) {
      if (err.code === 'already_rated') this.setData({ rated: true })
      else showError(err)
    }
  },
  async supplement() {
    const a = this.data.a
    const wanted = (a.supplement && a.supplement.items) || []
    const target = a.materials.find((m) => wanted.includes(m.id)) || a.materials.find((m) => m.source === 'upload')
    try {
      const up = await uploadFile(request)
      if (!up) return
      const next = await api.post(`/api/v1/applications/${this.id}/resubmit`,
        { version: a.version, comment: '已按要求补正', materials: target ? [{ id: target.id, upload_id: up.id }] : [] })
      this.setData({ a: next })
      wx.showToast({ title: '已提交补正' })
    } catch (err) { showError(err) }
  },
})
