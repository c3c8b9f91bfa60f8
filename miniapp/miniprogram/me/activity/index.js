// 账户动态: the person's audit trail in words (who acted — 本人, a clerk, a kiosk — and what),
// and whether the chain of entries is intact.
const { api, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

Page({
  data: { items: [], chainOk: null, loading: true, error: '', elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try {
      const r = await api.get('/api/v1/me/activity?limit=50')
      this.setData({
        items: r.items.map((e) => ({ seq: e.seq, title: e.action_name || '其他操作', label: `${(e.actor && e.actor.name) || '系统'} · ${fmtTime(e.at)}` })),
        chainOk: r.chain_ok,
      })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
})
