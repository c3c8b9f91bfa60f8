// Face verification (L3): WeChat's face check on the phone (wx.startFacialRecognitionVerify,
// with the verified name and ID number), its verifyResult checked by the verification
// provider on the server (POST /api/v1/me/face).
const { api, session, showError } = require('../../utils/api')

Page({
  data: { state: 'ready', message: '', elder: false },
  onShow() { this.setData({ elder: getApp().globalData.elder }) },
  async start() {
    this.setData({ state: 'busy', message: '' })
    try {
      const me = await api.get('/api/v1/me?reveal=true') // the face check needs the full name and ID number
      const verifyResult = await new Promise((resolve, reject) => wx.startFacialRecognitionVerify({
        name: me.realname.name, idCardNumber: me.realname.id_number, checkAliveType: 2,
        success: (r) => resolve(r.verifyResult), fail: (e) => reject(e),
      }))
      const r = await api.post('/api/v1/me/face', { evidence: verifyResult })
      session.save({ access_token: r.access_token })
      this.setData({ state: 'done' })
    } catch (e) {
      this.setData({ state: 'ready', message: e.errMsg ? '人脸核验没有完成，请在光线充足处正对屏幕再试一次' : '' })
      if (!e.errMsg) showError(e)
    }
  },
})
