// One hall: the address (opens the map), the phone (拨打), today's hours and whether it is open
// now, the week's hours, the windows and the wait for each matter. Then what to do there:
// choose the matter, a day and a period with places left (a full period cannot be chosen) and
// book (L2; one Idempotency-Key per chosen period, so a retry never books twice) — the check-in
// code comes back —, or, while the hall is open and the phone is within the hall's
// remote_radius_m, 线上取号 (the location only after WeChat's privacy check, answered by the
// privacy-popup; the server checks the distance again).
// ?reschedule=<appointment> (from 我的预约) moves that booking to the chosen period instead.
const { api, newIdempotencyKey, errorText, showError } = require('../../utils/api')
const { dayLabel, hoursText, weekHours, distanceText, radiusText, nearParam, locate } = require('../util')

const HALL = /^[a-z0-9-]{3,40}$/
const MATTER = /^[0-9]{6}-[A-Z]{2,4}-[0-9]{4}$/
const APPT = /^p[0-9a-f]{24}$/

Page({
  data: {
    h: null, hours: '', week: '', windows: [], waits: [], access: '', matterIndex: -1, matter: null,
    days: [], dayIndex: 0, periods: [], slot: null, slotsLoading: false, slotsError: '', bookError: '', booked: null, rescheduling: null,
    distance: '', radius: '', near: false, located: false, busy: false, taking: false, loading: true, error: '', elder: false,
  },
  async onLoad({ id, matter, reschedule }) {
    this.id = HALL.test(id || '') ? id : 'unknown'
    this.want = MATTER.test(matter || '') ? matter : ''
    this.reschedule = APPT.test(reschedule || '') ? reschedule : ''
    this.key = newIdempotencyKey()
    this.setData({ elder: getApp().globalData.elder })
    if (this.reschedule) wx.setNavigationBarTitle({ title: '预约改期' })
    await this.load()
    if (this.data.h && this.data.h.open_now && !this.reschedule) await this.findMe()
  },
  async load() {
    this.setData({ loading: true, error: '' })
    try {
      const appt = this.reschedule ? await api.get(`/api/v1/appointments/${this.reschedule}`) : null
      const h = await api.get(`/api/v1/halls/${appt ? appt.hall : this.id}`)
      this.id = h.id
      const names = Object.fromEntries(h.matters.map((m) => [m.code, m.name]))
      const waits = h.matters.map((m) => ({ code: m.code, name: m.name, queue: h.queues[m.queue] || '',
        line: m.waiting ? `等候 ${m.waiting} 人 · 约 ${m.wait_minutes} 分钟` : '现在无需等候' }))
      const windows = h.windows.map((w) => ({ number: w.number, name: w.name, open: w.open,
        serves: w.matters ? w.matters.map((c) => names[c] || '').filter(Boolean).join('、') : '各类事项' }))
      this.setData({ h, waits, windows, rescheduling: appt, hours: hoursText(h.today_hours), week: weekHours(h.week_hours),
        access: h.accessibility.join('、'), radius: radiusText(h.remote_radius_m) })
      const want = appt ? appt.matter : this.want
      const i = waits.findIndex((m) => m.code === want)
      if (i >= 0) await this.choose(i)
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  // how far the phone is from this hall (the server measures it); within the hall's 线上取号 radius?
  async findMe() {
    const at = await locate()
    if (!at) return
    const r = await api.get(`/api/v1/halls?near=${nearParam(at)}`).catch(() => null)
    const me = r && r.items.find((x) => x.id === this.id)
    if (me) this.setData({ located: true, distance: distanceText(me.distance_m), near: me.distance_m <= this.data.h.remote_radius_m })
  },
  call() { wx.makePhoneCall({ phoneNumber: this.data.h.phone }) },
  openMap() {
    const h = this.data.h
    wx.openLocation({ latitude: h.lat, longitude: h.lng, name: h.name, address: h.address, scale: 17 })
  },
  onMatter(e) { return this.choose(Number(e.detail.value)) },
  async choose(i) {
    this.setData({ matterIndex: i, matter: this.data.waits[i], slot: null, booked: null })
    await this.loadSlots()
  },
  // the periods of the coming days for the matter's queue, each with the places left
  async loadSlots() {
    this.setData({ slotsLoading: true, slotsError: '' })
    try {
      const r = await api.get(`/api/v1/halls/${this.id}/slots?matter=${this.data.matter.code}`)
      const days = []
      for (const s of r.items) {
        let d = days[days.length - 1]
        if (!d || d.day !== s.day) days.push(d = { day: s.day, label: dayLabel(s.day), periods: [], left: 0 })
        d.periods.push({ time: s.time, end: s.end, left: s.left, full: s.left <= 0 })
        d.left += s.left
      }
      this.days = days
      const kept = this.data.days[this.data.dayIndex]
      let dayIndex = kept ? days.findIndex((d) => d.day === kept.day) : -1
      if (dayIndex < 0) dayIndex = Math.max(0, days.findIndex((d) => d.left > 0))
      this.setData({ days: days.map((d) => ({ day: d.day, label: d.label, full: d.left <= 0 })), dayIndex,
        periods: days.length ? days[dayIndex].periods : [] })
    } catch (e) { this.setData({ slotsError: errorText(e) }) } finally { this.setData({ slotsLoading: false }) }
  },
  pickDay(e) {
    const i = Number(e.currentTarget.dataset.index)
    this.setData({ dayIndex: i, periods: this.days[i].periods, slot: null })
  },
  pickSlot(e) {
    const p = this.data.periods[Number(e.currentTarget.dataset.index)]
    if (!p || p.full) return // a full period cannot be chosen
    const day = this.days[this.data.dayIndex]
    this.key = newIdempotencyKey()
    this.setData({ bookError: '', slot: { day: day.day, time: p.time, label: `${day.label} ${p.time}-${p.end}` } })
  },
  async book() {
    const { slot, matter, rescheduling } = this.data
    if (!matter) { wx.showToast({ title: '请先选择要办的事项', icon: 'none' }); return }
    if (!slot) { wx.showToast({ title: '请选择预约时段', icon: 'none' }); return }
    this.setData({ busy: true, bookError: '' })
    try {
      if (rescheduling) {
        const a = await api.post(`/api/v1/appointments/${rescheduling.id}/reschedule`,
          { version: rescheduling.version, day: slot.day, time: slot.time })
        this.setData({ booked: { ...a, when: `${dayLabel(a.day)} ${a.time}-${a.end}` }, rescheduling: a })
        wx.showToast({ title: '已改期', icon: 'none' })
      } else {
        const a = await api.create('/api/v1/appointments', { hall: this.id, matter: matter.code, day: slot.day, time: slot.time }, this.key)
        this.key = newIdempotencyKey()
        this.setData({ booked: { ...a, when: `${dayLabel(a.day)} ${a.time}-${a.end}` } })
      }
    } catch (err) {
      this.setData({ bookError: errorText(err) })
      if (err.code === 'slot_full') { this.setData({ slot: null }); await this.loadSlots() }
    } finally { this.setData({ busy: false }) }
  },
  // 线上取号: where the phone is now, sent with the matter; the server checks the distance
  async takeNumber() {
    if (!this.data.matter) { wx.showToast({ title: '请先选择要办的事项', icon: 'none' }); return }
    this.setData({ taking: true })
    try {
      const at = await locate()
      if (!at) { wx.showToast({ title: '需要您的位置才能线上取号，也可以到大厅取号', icon: 'none' }); return }
      const n = await api.post(`/api/v1/halls/${this.id}/numbers`, { matter: this.data.matter.code, lat: at.latitude, lng: at.longitude })
      wx.navigateTo({ url: `/halls/number/index?id=${n.id}` })
    } catch (err) { showError(err) } finally { this.setData({ taking: false }) }
  },
  toAppointments() {
    if (this.reschedule) wx.navigateBack()
    else wx.navigateTo({ url: '/halls/appointments/index' })
  },
  again() { this.setData({ booked: null, slot: null }); return this.loadSlots() },
})
