const { api, showError } = require('../../utils/api')

Page({
  data: { m: null, elder: false },
  async onLoad({ code }) {
    this.setData({ elder: getApp().globalData.elder })
    try { this.setData({ m: await api.get(`/api/v1/matters/${code}`) }) } catch (e) { showError(e) }
  },
})
