const { api, session, showError } = require('../../utils/api')
const i18n = require('../../utils/i18n')

Page({
  data: { t: {}, name: '', idNumber: '', errors: {}, elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder, t: i18n.strings('realname') })
    i18n.title()
  },
  onName(e) { this.setData({ name: e.detail }) },
  onId(e) { this.setData({ idNumber: e.detail }) },
  async submit() {
    try {
      const r = await api.post('/api/v1/me/realname', { name: this.data.name, id_number: this.data.idNumber })
      session.save(r)
      wx.showToast({ title: i18n.t('realname.done') })
      wx.switchTab({ url: '/pages/index/index' })
    } catch (e) {
      this.setData({ errors: e.fields || {} })
      showError(e)
    }
  },
})
