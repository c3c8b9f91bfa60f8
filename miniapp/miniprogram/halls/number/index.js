// 我的排队号: the number, how many are ahead and the estimated wait ("前面还有 N 人，预计 M
// 分钟"), kept current by the events socket — queue.progress as the queue moves, queue.called
// when a window calls it ("请到 2 号综合窗口", with a vibration) —; polled only while the
// socket is down. 过号: 重新排队 once (behind those waiting now). Without ?id: today's number.
const { api, errorText, showError } = require('../../utils/api')
const events = require('../../utils/events')
const { numberLine } = require('../util')

const NUMBER = /^n[0-9a-f]{24}$/
const LIVE = ['waiting', 'called', 'serving', 'skipped']
const POLL_MS = 15000

Page({
  data: { n: null, line: '', hint: '', live: false, down: false, loading: true, error: '', busy: false, elder: false },
  onLoad({ id }) { this.id = NUMBER.test(id || '') ? id : '' },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    await this.load()
    if (!this.socket) {
      this.socket = events.connect({ onEvent: (e) => this.onEvent(e), onUp: () => this.live(true), onDown: () => this.live(false) })
    }
  },
  onHide() { this.leave() },
  onUnload() { this.leave() },
  leave() {
    clearInterval(this.poll)
    this.poll = null
    if (this.socket) { const s = this.socket; this.socket = null; s.close() }
  },
  live(up) {
    if (!this.socket) return // closed by the page itself
    this.setData({ live: up, down: !up })
    clearInterval(this.poll)
    this.poll = up ? null : setInterval(() => this.load(true), POLL_MS)
    if (up) this.load(true) // whatever moved while it was down
  },
  async load(quiet) {
    if (!quiet) this.setData({ loading: !this.data.n, error: '' })
    try {
      if (this.id) { this.show(await api.get(`/api/v1/me/numbers/${this.id}`)); return }
      const r = await api.get('/api/v1/me/numbers')
      const n = r.items.filter((x) => LIVE.includes(x.state)).pop() || r.items[r.items.length - 1]
      if (n) { this.id = n.id; this.show(n) }
    } catch (e) {
      if (!quiet || !this.data.n) this.setData({ error: errorText(e) })
    } finally { this.setData({ loading: false }) }
  },
  show(n) {
    const hints = {
      waiting: `${n.hall_name} · ${n.queue_name}。叫到您时这里会提醒，请留在大厅附近。`,
      called: '已叫到您的号，请带好材料尽快前往窗口。',
      serving: `正在${n.window_name || '窗口'}办理。`,
      done: '已办结，感谢您的耐心等候。',
      skipped: n.can_rejoin ? '叫号时您不在，号已过。可以重新排队一次，排在此刻等候的人之后。' : '号已过，请到导服台重新取号。',
      left: '过号两次，这个号已作废。请到导服台重新取号。',
    }
    this.setData({ n, line: numberLine(n), hint: hints[n.state] || '' })
  },
  // queue.progress: the place while waiting (shown at once); any other move of the number
  // (served, 过号, finished) is read back from the server, which words it
  onEvent(e) {
    const n = this.data.n
    if (!n || e.number_id !== n.id || !['queue.progress', 'queue.called'].includes(e.type)) return
    if (e.type === 'queue.called') {
      this.show({ ...n, state: 'called', state_name: '已叫号', window: e.window, window_name: e.window_name })
      wx.vibrateShort({ type: 'heavy' })
    } else if (e.state === 'waiting' && n.state === 'waiting') {
      this.show({ ...n, ahead: e.ahead, wait_minutes: e.wait_minutes })
    }
    this.load(true) // the server's view, in case an older event came late
  },
  async rejoin() {
    this.setData({ busy: true })
    try {
      this.show(await api.post(`/api/v1/me/numbers/${this.data.n.id}/rejoin`))
      wx.showToast({ title: '已重新排队', icon: 'none' })
    } catch (err) { showError(err); await this.load(true) } finally { this.setData({ busy: false }) }
  },
  toHalls() { wx.navigateTo({ url: '/halls/list/index' }) },
})
