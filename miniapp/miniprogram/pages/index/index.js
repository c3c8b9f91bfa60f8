// Home: the person code (refreshed before it expires, screen brightness up while shown) and
// what comes live over the events socket (utils/events.js): a consent request from a kiosk
// shows at once, a scan spends the code (a fresh one is fetched). Only while the socket is
// down are consent requests polled (every 15 s). While acting for a family member (亲友代办)
// no code is shown: the code is the person's own (the server refuses it to a proxy); the home
// page says so and checks the grant still holds.
const { api, request, session, showError, switchBack } = require('../../utils/api')
const { scopeWords } = require('../../utils/format')
const events = require('../../utils/events')
const i18n = require('../../utils/i18n')

const POLL_MS = 15000

Page({
  data: { t: {}, acting: null, actingText: '', actingScopes: '', me: null, code: null, imageSrc: '', consents: [], notice: '', live: false, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder, t: i18n.strings('index') })
    i18n.tabBar()
    i18n.title()
    if (!session.loggedIn()) { wx.reLaunch({ url: '/pages/login/index' }); return }
    if (session.acting) { await this.showActing(); return }
    this.setData({ acting: null })
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
  async showActing() {
    const shown = (p) => this.setData({ acting: p, actingText: i18n.t('index.acting', { name: p.name }),
      actingScopes: i18n.t('index.actingScopes', { scopes: scopeWords(p.scopes) }),
      me: null, code: null, imageSrc: '', consents: [] })
    shown(session.acting.person)
    try {
      const now = await api.get('/api/v1/auth/acting') // the grant as it is now (a revoked one switches back)
      if (now.person) shown(now.person)
      else { session.stopActing(); await this.onShow() } // the token was one's own after all
    } catch (e) { showError(e) }
  },
  switchBack() { switchBack() },
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
      this.setData({ notice: i18n.t('index.asked', { by: e.by || i18n.t('index.window') }) })
      this.loadConsents().catch(() => {})
    } else if (e.type === 'code.scanned') {
      this.setData({ notice: i18n.t('index.scanned', { by: e.by || i18n.t('index.window') }) })
      this.loadCode().catch(() => {}) // a used code is spent
    } else if (e.type === 'application.progress') {
      this.setData({ notice: i18n.t('index.progress', { number: e.number, state: e.state_name }) })
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
      wx.showToast({ title: i18n.t(action === 'approve' ? 'index.approved' : 'index.rejected') })
      await this.loadConsents()
    } catch (err) { showError(err) }
  },
  toRealname() { wx.navigateTo({ url: '/pages/realname/index' }) },
})
