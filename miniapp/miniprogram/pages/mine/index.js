// Profile, 适老化 mode, and the way to everything that is the person's own: records of use,
// the account's audit trail, enterprises (acting for one, its code, invitations), face
// verification, closing the account. Subpages live in the "me" subpackage.
const { api, session, showError } = require('../../utils/api')

const LEVEL = ['未实名', '已验证手机号', '已实名认证', '已刷脸认证']

Page({
  data: { me: null, level: '', acting: null, invitations: 0, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const [me, inv] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/me/invitations').catch(() => ({ items: [] }))])
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      this.setData({ me, level: LEVEL[me.level] || '', acting, invitations: inv.items.length })
    } catch (e) { showError(e) }
  },
  toggleElder(e) {
    getApp().setElder(e.detail)
    this.setData({ elder: e.detail })
    api.patch('/api/v1/me', { elder_mode: e.detail }).catch(() => {})
  },
  async logout() {
    await api.post('/api/v1/auth/logout', { refresh_token: session.refresh }).catch(() => {})
    session.clear()
    wx.reLaunch({ url: '/pages/login/index' })
  },
})
