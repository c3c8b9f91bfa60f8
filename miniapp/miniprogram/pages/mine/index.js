// Profile, elder-friendly mode, and the enterprise switcher for agents: acting for an
// enterprise swaps the access token for one with the act claim (checked on every request).
const { api, session, showError } = require('../../utils/api')

Page({
  data: { me: null, enterprises: [], acting: null, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const [me, ents] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/enterprises')])
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      this.setData({ me, enterprises: ents.items, acting })
    } catch (e) { showError(e) }
  },
  toggleElder(e) {
    getApp().setElder(e.detail)
    this.setData({ elder: e.detail })
    api.patch('/api/v1/me', { elder_mode: e.detail }).catch(() => {})
  },
  async actAs(e) {
    const id = e.currentTarget.dataset.id || null
    try {
      const r = await api.post('/api/v1/auth/act-as', { enterprise_id: id })
      session.save(r)
      this.setData({ acting: r.acting })
      wx.showToast({ title: id ? `已切换为 ${r.acting.enterprise_name}` : '已切回个人', icon: 'none' })
    } catch (err) { showError(err) }
  },
  async logout() {
    await api.post('/api/v1/auth/logout', { refresh_token: session.refresh }).catch(() => {})
    session.clear()
    wx.reLaunch({ url: '/pages/login/index' })
  },
})
