const { api, showError } = require('../../utils/api')

Page({
  data: { items: [], loaded: false, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try { this.setData({ items: (await api.get('/api/v1/applications')).items, loaded: true }) } catch (e) { showError(e) }
  },
  toMatters() { wx.switchTab({ url: '/pages/matters/index' }) },
})
