// Profile, 适老化 mode, the language (跟随系统 / 简体中文 / 繁體中文), and the way to everything
// that is the person's own: records of use, the account's audit trail, enterprises (acting for
// one, its code, invitations), 亲友代办 (authorising family, acting for them), face
// verification, closing the account. Subpages live in the "me" subpackage. While acting for a
// family member the profile is theirs and only what the grant covers is offered (account
// matters stay with the person themself).
const { api, session, showError } = require('../../utils/api')
const { PROXY_SCOPES, scopeWords } = require('../../utils/format')
const i18n = require('../../utils/i18n')

const LANGS = ['', 'zh-CN', 'zh-TW'] // '' = follow the phone

Page({
  data: { t: {}, me: null, level: '', acting: null, person: null, can: {}, proxies: 0, invitations: 0, elder: false,
    langName: '', recordsTitle: '', pendingProxies: '', pendingInvitations: '' },
  async onShow() {
    this.words()
    const person = session.acting ? session.acting.person : null
    const scopes = person ? person.scopes : Object.keys(PROXY_SCOPES)
    this.setData({ elder: getApp().globalData.elder, person, can: Object.fromEntries(scopes.map((s) => [s, true])),
      actingScopes: person ? scopeWords(person.scopes) : '',
      recordsTitle: person ? i18n.t('mine.whoseRecords', { name: person.name }) : i18n.t('mine.records') })
    try {
      if (person) { this.setData({ me: await api.get('/api/v1/me'), acting: null, invitations: 0, proxies: 0 }) } else {
        const [me, inv, px] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/me/invitations').catch(() => ({ items: [] })),
          api.get('/api/v1/me/proxies').catch(() => ({ received: [] }))])
        const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
        this.setData({ me, acting, invitations: inv.items.length, proxies: px.received.filter((g) => g.state === 'pending').length })
      }
      this.words()
    } catch (e) { showError(e) }
  },
  // the page's words in the language in use, and the tab bar's
  words() {
    const { me, proxies, invitations } = this.data
    const pending = (count) => (count ? i18n.t('mine.pending', { count }) : '')
    this.setData({ t: i18n.strings('mine'), langName: i18n.t(`lang.${i18n.chosen() || 'system'}`),
      level: me ? i18n.t(`level.${me.level}`) : '', pendingProxies: pending(proxies), pendingInvitations: pending(invitations) })
    i18n.tabBar()
    i18n.title()
  },
  pickLang() {
    const t = this.data.t
    wx.showActionSheet({
      itemList: [t.lang.system, t.lang['zh-CN'], t.lang['zh-TW']],
      success: ({ tapIndex }) => this.useLang(LANGS[tapIndex]),
    })
  },
  useLang(value) {
    i18n.setLang(value)
    this.words()
    if (this.data.person) this.setData({ actingScopes: scopeWords(this.data.person.scopes),
      recordsTitle: i18n.t('mine.whoseRecords', { name: this.data.person.name }) })
    else this.setData({ recordsTitle: i18n.t('mine.records') })
  },
  toggleElder(e) {
    getApp().setElder(e.detail)
    this.setData({ elder: e.detail })
    if (!this.data.person) api.patch('/api/v1/me', { elder_mode: e.detail }).catch(() => {})
  },
  async logout() {
    await api.post('/api/v1/auth/logout', { refresh_token: session.refresh }, { own: true }).catch(() => {})
    session.clear()
    wx.reLaunch({ url: '/pages/login/index' })
  },
})
