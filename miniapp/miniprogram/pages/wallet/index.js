const { api, session, errorText } = require('../../utils/api')
const i18n = require('../../utils/i18n')

Page({
  data: { t: {}, items: [], title: '', loading: true, error: '', acting: null, elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder, t: i18n.strings('wallet'), title: this.data.title || i18n.t('wallet.mine') })
    i18n.tabBar()
    i18n.title()
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try {
      // whose certificates: a family member's while acting for them (亲友代办), an enterprise's
      // while acting for it, else the person's own
      const person = session.acting
      const acting = person ? null : await api.get('/api/v1/enterprises/current').catch(() => null)
      const r = await api.get('/api/v1/wallet')
      const title = person || acting ? i18n.t('wallet.whose', { name: person ? person.person.name : acting.enterprise_name })
        : i18n.t('wallet.mine')
      this.setData({ items: r.items, acting, title })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  toMatters() { wx.switchTab({ url: '/pages/matters/index' }) },
})
