// 账户动态: the person's audit trail in words (who acted — 本人, a clerk, a kiosk — and what),
// and whether the chain of entries is intact.
const { api, showError } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

Page({
  data: { items: [], chainOk: null, loaded: false, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const r = await api.get('/api/v1/me/activity?limit=50')
      this.setData({
        items: r.items.map((e) => ({ seq: e.seq, title: e.action_name || '其他操作', label: `${(e.actor && e.actor.name) || '系统'} · ${fmtTime(e.at)}` })),
        chainOk: r.chain_ok, loaded: true,
      })
    } catch (e) { showError(e) }
  },
})
