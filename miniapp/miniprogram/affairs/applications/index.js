// 我的办件: every application of the person (or the enterprise they act for), newest first.
const { api, errorText } = require('../../utils/api')

Page({
  data: { items: [], loading: true, error: '', elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try { this.setData({ items: (await api.get('/api/v1/applications')).items }) } catch (e) {
      this.setData({ error: errorText(e) })
    } finally { this.setData({ loading: false }) }
  },
  toMatters() { wx.switchTab({ url: '/pages/matters/index' }) },
})
