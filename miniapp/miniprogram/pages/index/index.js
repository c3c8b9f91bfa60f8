// Home: the person code (refreshed before it expires, screen brightness up while shown) and
// what comes live over the events socket (utils/events.js): a consent request from a kiosk
// shows at once, a scan spends the code (a fresh one is fetched). Only while the socket is
// down are consent requests polled (every 15 s).
const { api, request, session, showError } = require('../../utils/api')
const events = require('../../utils/events')

const POLL_MS = 15000

Page({
  data: { me: null, code: null, imageSrc: '', consents: [], notice: '', live: false, elder: false },
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
      this.socket = events.connect({ onEvent: (e) => this.onEvent(e), onUp: () => this.live(true), onDown: () => this.live(false) })
    } catch (e) { showError(e) }
  },
  onHide() { this.leave() },
  onUnload() { this.leave() },
  leave() {
    clearInterval(this.poll)
    this.poll = null
    if (this.socket) { this.socket.close(); this.socket = null }
    if (this.brightness !== undefined) wx.setScreenBrightness({ value: this.brightness })
  },
  live(up) {
    this.setData({ live: up })
    clearInterval(this.poll)
    this.poll = up ? null : setInterval(() => this.loadConsents().catch(() => {}), POLL_MS)
    if (up) this.loadConsents().catch(() => {}) // anything asked while it was down
  },
  onEvent(e) {
    if (e.type === 'consent.requested') {
      this.setData({ notice: `「${e.by || '服务窗口'}」请求使用您的信息` })
      this.loadConsents().catch(() => {})
    } else if (e.type === 'code.scanned') {
      this.setData({ notice: `您的服务码被「${e.by || '服务窗口'}」扫描` })
      this.loadCode().catch(() => {}) // a used code is spent
    } else if (e.type === 'application.progress') {
      this.setData({ notice: `办件 ${e.number}：${e.state_name}` })
    }
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
