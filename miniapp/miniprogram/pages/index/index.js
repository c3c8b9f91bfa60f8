// Home: the person code (refreshed before it expires, screen brightness up while shown)
// and consent requests from kiosks, polled every few seconds while the page is open.
const { api, request, session, showError } = require('../../utils/api')

Page({
  data: { me: null, code: null, imageSrc: '', consents: [], elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    if (!session.loggedIn()) { wx.reLaunch({ url: '/pages/login/index' }); return }
    try {
      const me = await api.get('/api/v1/me')
      this.setData({ me })
      if (me.level < 2) return
      this.brighten()
      await this.loadCode()
      await this.loadConsents()
      this.poll = setInterval(() => this.loadConsents().catch(() => {}), 3000)
    } catch (e) { showError(e) }
  },
  onHide() { this.leave() },
  onUnload() { this.leave() },
  leave() {
    clearInterval(this.poll)
    if (this.brightness !== undefined) wx.setScreenBrightness({ value: this.brightness })
  },
  brighten() {
    wx.getScreenBrightness({ success: ({ value }) => { this.brightness = value; wx.setScreenBrightness({ value: 1 }) } })
  },
  async loadCode() {
    const code = await api.get('/api/v1/codes/person')
    const png = await request(code.png_url, { raw: true })
    const path = `${wx.env.USER_DATA_PATH}/person-code.png`
    wx.getFileSystemManager().writeFileSync(path, png)
    this.setData({ code, imageSrc: `${path}?${Date.now()}` })
  },
  async loadConsents() {
    const r = await api.get('/api/v1/consents?state=pending')
    const before = this.data.consents.length
    this.setData({ consents: r.items })
    if (r.items.length > before) wx.vibrateShort({ type: 'medium' })
  },
  async decide(e) {
    const { id, action, items } = e.detail
    try {
      await api.post(`/api/v1/consents/${id}/${action}`, { items })
      wx.showToast({ title: action === 'approve' ? '已同意' : '已拒绝' })
      await this.loadConsents()
    } catch (err) { showError(err) }
  },
  toRealname() { wx.navigateTo({ url: '/pages/realname/index' }) },
})
