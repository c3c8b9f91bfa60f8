// 办事大厅 (政务服务地图): the halls on a map and in a list with today's hours, open or
// closed now and how many are waiting. Nearest first once the person lets the app use the
// location — WeChat's privacy check comes first (the privacy-popup on this page answers it),
// then WeChat's own location prompt —; without it, by district and without distances.
// ?matter=<code> (from a 办事指南) lists only the halls that handle that matter. The
// person's numbers of today are shown on top, each a tap from its live page.
const { api, errorText } = require('../../utils/api')
const { REGIONS, hoursText, distanceText, nearParam, locate, numberLine } = require('../util')

const MATTER = /^[0-9]{6}-[A-Z]{2,4}-[0-9]{4}$/
const CENTER = { latitude: 23.1291, longitude: 113.2644 } // 广州
const LIVE = ['waiting', 'called', 'serving', 'skipped']

Page({
  data: {
    halls: [], markers: [], points: [], center: CENTER, regions: REGIONS, regionIndex: 0, located: false, locating: false,
    numbers: [], matter: '', matterName: '', loading: true, error: '', elder: false,
  },
  async onLoad({ matter }) {
    this.setData({ elder: getApp().globalData.elder, matter: MATTER.test(matter || '') ? matter : '' })
    if (this.data.matter) {
      api.get(`/api/v1/matters/${this.data.matter}`).then((m) => this.setData({ matterName: m.name })).catch(() => {})
    }
    await this.load()
    await this.useLocation()
    this.shown = true
  },
  // back from a hall: the waiting counts and numbers as they are now
  onShow() { if (this.shown) return this.load(true) },
  // e: the person tapped 按离我远近排序 (a refusal is then explained)
  async useLocation(e) {
    this.setData({ locating: true })
    const at = await locate()
    this.setData({ locating: false })
    if (!at) {
      if (e) wx.showToast({ title: '没有获得位置。可在右上角“…”→“设置”里允许使用位置', icon: 'none', duration: 3000 })
      return
    }
    this.at = at
    this.setData({ located: true, center: at })
    await this.load(true)
  },
  onRegion(e) {
    this.setData({ regionIndex: Number(e.detail.value) })
    return this.load()
  },
  async load(quiet) {
    if (!quiet) this.setData({ loading: !this.data.halls.length, error: '' })
    const q = [this.at ? `near=${nearParam(this.at)}` : `region=${REGIONS[this.data.regionIndex].code}`]
    if (this.data.matter) q.push(`matter=${this.data.matter}`)
    try {
      const [r, mine] = await Promise.all([api.get(`/api/v1/halls?${q.join('&')}`),
        api.get('/api/v1/me/numbers').catch(() => ({ items: [] }))])
      const suffix = this.data.matter ? `&matter=${this.data.matter}` : ''
      const halls = r.items.map((h) => ({
        id: h.id, name: h.name, url: `/halls/hall/index?id=${h.id}${suffix}`,
        status: h.open_now ? `开放中 · 等候 ${h.waiting} 人` : '现在不开放',
        label: `${h.distance_m !== null && h.distance_m !== undefined ? `距您 ${distanceText(h.distance_m)} · ` : ''}${h.address} · ${hoursText(h.today_hours)}`,
      }))
      const markers = r.items.map((h, i) => ({
        id: i, latitude: h.lat, longitude: h.lng, title: h.name, iconPath: '/halls/pin.png', width: 27, height: 36,
        callout: { content: `${h.name}\n${h.open_now ? `开放中，等候 ${h.waiting} 人` : '现在不开放'}`, display: 'BYCLICK',
          padding: 8, borderRadius: 8, fontSize: 14 },
      }))
      const numbers = mine.items.filter((n) => LIVE.includes(n.state))
        .map((n) => ({ id: n.id, label: n.label, hall: n.hall_name, line: numberLine(n) }))
      this.setData({ halls, markers, numbers, error: '',
        points: this.at ? [] : r.items.map((h) => ({ latitude: h.lat, longitude: h.lng })) })
    } catch (e) {
      if (!quiet || !this.data.halls.length) this.setData({ error: errorText(e) })
    } finally { this.setData({ loading: false }) }
  },
  // a tapped marker (or its bubble) opens that hall
  onMarker(e) {
    const h = this.data.halls[Number(e.detail.markerId)]
    if (h) wx.navigateTo({ url: h.url })
  },
  // (a van-button has no url of its own, unlike a van-cell)
  go(e) { wx.navigateTo({ url: e.currentTarget.dataset.url }) },
  toNumber(e) { wx.navigateTo({ url: `/halls/number/index?id=${e.currentTarget.dataset.id}` }) },
  allRegions() { this.setData({ regionIndex: 0 }); return this.load() },
})
