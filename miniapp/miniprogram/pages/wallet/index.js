const { api, errorText } = require('../../utils/api')
const { STATUS } = require('../../utils/format')

Page({
  data: { items: [], loading: true, error: '', STATUS, acting: null, elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try {
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      const r = await api.get('/api/v1/wallet')
      this.setData({ items: r.items, acting })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  toMatters() { wx.switchTab({ url: '/pages/matters/index' }) },
})
