const { api, showError } = require('../../utils/api')

Page({
  data: { q: '', items: [], loaded: false, elder: false },
  async onShow() { this.setData({ elder: getApp().globalData.elder }); await this.load() },
  search(e) { this.setData({ q: e.detail }); this.load() },
  clear() { this.setData({ q: '' }); this.load() },
  async load() {
    try {
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      const target = acting ? 'enterprise' : 'person'
      const r = await api.get(`/api/v1/matters?target=${target}${this.data.q ? `&q=${encodeURIComponent(this.data.q)}` : ''}`)
      this.setData({ items: r.items, loaded: true })
    } catch (e) { showError(e) }
  },
})
