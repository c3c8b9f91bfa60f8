const { api, showError } = require('../../utils/api')
const { STATUS } = require('../../utils/format')

Page({
  data: { items: [], loaded: false, STATUS, acting: null, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      const r = await api.get('/api/v1/wallet')
      this.setData({ items: r.items, loaded: true, acting })
    } catch (e) { showError(e) }
  },
})
