const { api, session, errorText } = require('../../utils/api')
const i18n = require('../../utils/i18n')

Page({
  data: { t: {}, q: '', items: [], bundles: [], loading: true, error: '', elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder, t: i18n.strings('matters') })
    i18n.tabBar()
    i18n.title()
    await this.load()
  },
  search(e) { this.setData({ q: e.detail }); this.load() },
  clear() { this.setData({ q: '' }); this.load() },
  // (a van-button has no url of its own, unlike a van-cell)
  go(e) { wx.navigateTo({ url: e.currentTarget.dataset.url }) },
  toHotline() { wx.navigateTo({ url: '/hotline/new/index' }) },
  async load() {
    this.setData({ loading: !this.data.items.length && !this.data.q, error: '' })
    try {
      // an enterprise's matters while acting for it; a family member's are a person's (亲友代办)
      const acting = session.acting ? null : await api.get('/api/v1/enterprises/current').catch(() => null)
      const target = acting ? 'enterprise' : 'person'
      const [r, b] = await Promise.all([
        api.get(`/api/v1/matters?target=${target}${this.data.q ? `&q=${encodeURIComponent(this.data.q)}` : ''}`),
        api.get('/api/v1/bundles')])
      const q = this.data.q.trim()
      const bundles = b.items.filter((x) => (x.target || 'person') === target && (!q || `${x.name}${x.description || ''}`.includes(q)))
      const t = this.data.t
      const badges = (m) => [m.instant_approval ? t.instant : '', m.visits === 0 ? t.noVisit : ''].filter(Boolean).join(' · ')
      this.setData({ items: r.items.map((m) => ({ ...m, badges: badges(m) })), bundles })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
})
