// 我的诉求 (12345): every 咨询、求助、投诉、举报、建议 the person (or the enterprise they act
// for) filed, with its state and due time; filing a new one is one tap away.
const { api, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

Page({
  data: { items: [], loading: true, error: '', elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try {
      const r = await api.get('/api/v1/tickets')
      this.setData({
        items: r.items.map((t) => ({ id: t.id, title: t.title, state: t.state_name, overdue: t.overdue,
          label: `${t.kind_name} · ${t.number}${t.due_at && !['archived', 'rejected', 'merged'].includes(t.state) ? ` · 时限 ${fmtTime(t.due_at)}` : ''}` })),
      })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  toNew() { wx.navigateTo({ url: '/hotline/new/index' }) },
})
