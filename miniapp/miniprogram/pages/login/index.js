const { api, session, showError } = require('../../utils/api')

Page({
  data: { step: 'login', busy: false, elder: false },
  onShow() { this.setData({ elder: getApp().globalData.elder }) },
  login() {
    this.setData({ busy: true })
    wx.login({
      success: async ({ code }) => {
        try {
          const r = await api.post('/api/v1/auth/wechat/miniapp', { code })
          session.save(r)
          if (r.person && r.person.phone) this.done(r.person)
          else this.setData({ step: 'phone' })
        } catch (e) { showError(e) } finally { this.setData({ busy: false }) }
      },
      fail: () => { this.setData({ busy: false }); wx.showToast({ title: '微信登录失败，请重试', icon: 'none' }) },
    })
  },
  async bindPhone(e) {
    if (!e.detail.code) { wx.showToast({ title: '未授权手机号', icon: 'none' }); return }
    try {
      const r = await api.post('/api/v1/auth/wechat/phone', { code: e.detail.code })
      session.save(r)
      this.done(r.person)
    } catch (err) { showError(err) }
  },
  skip() { this.done({ level: 0 }) },
  done(person) {
    wx.reLaunch({ url: person && person.level >= 2 ? '/pages/index/index' : '/pages/realname/index' })
  },
})
