// 我的预约: every booking at a hall with its state; a live one shows its check-in code and may
// be cancelled (asked first) or moved to another period (the hall page in 改期 mode) — the
// server says when it is too late for either. A booking already turned into a number leads to
// that number. When no-shows have blocked booking, the notice says until which day.
const { api, errorText, showError } = require('../../utils/api')
const { dayLabel, dateText } = require('../util')

function confirm(title, content, confirmText) {
  return new Promise((resolve) => {
    wx.showModal({ title, content, confirmText, cancelText: '不了', success: (r) => resolve(!!r.confirm), fail: () => resolve(false) })
  })
}

Page({
  data: { items: [], blockedUntil: '', loading: true, error: '', busy: '', elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.items.length, error: '' })
    try {
      const r = await api.get('/api/v1/appointments')
      this.setData({
        blockedUntil: r.blocked_until ? dateText(r.blocked_until) : '',
        items: r.items.map((a) => ({ ...a, when: `${dayLabel(a.day)} ${a.time}-${a.end}`, live: a.state === 'booked' })),
      })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  find(e) { return this.data.items.find((a) => a.id === e.currentTarget.dataset.id) },
  async cancel(e) {
    const a = this.find(e)
    if (!a || !(await confirm('取消预约', `取消${a.when}在${a.hall_name}办理“${a.matter_name}”的预约？`, '取消预约'))) return
    this.setData({ busy: a.id })
    try {
      await api.post(`/api/v1/appointments/${a.id}/cancel`, { version: a.version })
      wx.showToast({ title: '已取消预约', icon: 'none' })
    } catch (err) { showError(err) } finally { this.setData({ busy: '' }) }
    await this.load()
  },
  reschedule(e) {
    const a = this.find(e)
    if (a) wx.navigateTo({ url: `/halls/hall/index?id=${a.hall}&reschedule=${a.id}` })
  },
  toNumber(e) { wx.navigateTo({ url: `/halls/number/index?id=${this.find(e).number_id}` }) },
  toHalls() { wx.navigateTo({ url: '/halls/list/index' }) },
})
