const { api, session, showError } = require('../../utils/api')

Page({
  data: { name: '', idNumber: '', errors: {}, elder: false },
  onShow() { this.setData({ elder: getApp().globalData.elder }) },
  onName(e) { this.setData({ name: e.detail }) },
  onId(e) { this.setData({ idNumber: e.detail }) },
  async submit() {
    try {
      const r = await api.post('/api/v1/me/realname', { name: this.data.name, id_number: this.data.idNumber })
      session.save(r)
      wx.showToast({ title: '实名认证成功' })
      wx.switchTab({ url: '/pages/index/index' })
    } catch (e) {
      this.setData({ errors: e.fields || {} })
      showError(e)
    }
  },
})
