// The service-hall pages against the real backend (the Tianhe hall is open 24 hours in the test
// catalog, Yuexiu never): the map lists the halls with markers — by district while the location
// is refused (WeChat's privacy check answered by the page's popup), nearest first once it is
// allowed —; a period booked on the hall page gives a check-in code, a full period cannot be
// chosen, 我的预约 moves it and cancels it; booking blocked by no-shows says until when; a
// number taken near the hall follows the queue live over the events socket as the window clerk
// (acting through the API) calls numbers, shows "请到 2 号综合窗口", and after 过号 rejoins once;
// 线上取号 is offered within the hall's own radius (remote_radius_m, 1.5 km in this run).
const fs = require('fs')
const { wx, store, calls } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const { api, newIdempotencyKey } = require('../miniprogram/utils/api')
const { REGIONS, today } = require('../miniprogram/halls/util')

const TIANHE = world.halls.hall
const RESIDENCE = '440100-GA-0012' // 居住证申领 (queue A)
const SOCIAL = '440100-RS-0033' // 社会保障卡申领 (queue A)
const NEAR_TIANHE = { latitude: 23.1262, longitude: 113.362 } // about 80 m from the hall
const WINDOW = 2 // 2 号综合窗口 (queue A)

// WeChat's side of wx.getLocation: the privacy check first (answered through the page's
// privacy-popup, which registered wx.onNeedPrivacyAuthorization), then the position. (The
// simulator took the runtime's wx calls into its own wx object: the additions go there.)
let privacyAgreed = false
let here = NEAR_TIANHE
Object.assign(global.wx, {
  getLocation(o) {
    calls.push(['getLocation', o.type])
    const answer = () => o.success({ ...here, accuracy: 30 })
    if (privacyAgreed) { answer(); return }
    wx.privacyRequest((r) => {
      if (r.event === 'agree') { privacyAgreed = true; answer() } else o.fail({ errMsg: 'getLocation:fail privacy permission is not authorized' })
    })
  },
  makePhoneCall: (o) => calls.push(['makePhoneCall', o.phoneNumber]),
  openLocation: (o) => calls.push(['openLocation', o.name]),
  navigateBack: () => calls.push(['navigateBack']),
})

const toasts = () => calls.filter((c) => c[0] === 'showToast').map((c) => c[1])
const lastNavigation = () => calls.filter((c) => c[0] === 'navigateTo').pop()[1]
const popup = (page) => page.querySelector('#privacy').instance

function loginAs(who) {
  store.set('superapp.access', who.access_token)
  store.set('superapp.refresh', who.refresh_token)
}

// others (staff, another resident) act through the same HTTP API with their own token
const as = (token) => ({ anonymous: true, header: { Authorization: `Bearer ${token}` } })
const guide = as(world.halls.staff['th.daofu'])
const clerk = as(world.halls.staff['th.chuangkou'])
const atWindow = (path) => `/api/v1/staff/halls/${TIANHE}/windows/${WINDOW}${path}`

afterEach(detachAll)

test('the hall map lists the halls with markers: by district while the location is refused, then nearest first', async () => {
  loginAs(world.halls.person)
  const page = renderPage('halls/list')
  // the halls are listed at once; the location waits for the privacy question
  await until(() => text(page).includes('隐私保护提示'), 'the privacy question before the location')
  expect(calls.filter((c) => c[0] === 'getLocation')).toEqual([['getLocation', 'gcj02']])
  await until(() => page.data.halls.length, 'the halls of Guangzhou')
  popup(page).refuse()
  await page.instance.ready
  expect(page.data.located).toBe(false)
  const names = page.data.halls.map((h) => h.name)
  expect(names).toEqual(expect.arrayContaining(['天河区政务服务中心', '越秀区政务服务中心', '广州市政务服务中心']))
  expect(page.data.markers.map((m) => m.title)).toEqual(names) // one marker per hall
  expect(page.data.markers[0]).toMatchObject({ id: 0, iconPath: '/halls/pin.png' })
  expect(page.data.points).toHaveLength(names.length) // the map shows them all
  expect(text(page)).toContain('没有使用您的位置')
  expect(text(page)).not.toContain('距您')
  const tianhe = page.data.halls.find((h) => h.name === '天河区政务服务中心')
  expect(tianhe.status).toMatch(/^开放中 · 等候 \d+ 人$/)
  expect(tianhe.label).toContain('今天 全天开放')
  expect(page.data.halls.find((h) => h.name === '越秀区政务服务中心').status).toBe('现在不开放')

  // one district: only its hall
  await page.instance.onRegion({ detail: { value: REGIONS.findIndex((r) => r.name === '天河区') } })
  expect(page.data.halls.map((h) => h.name)).toEqual(['天河区政务服务中心'])
  expect(page.data.markers).toHaveLength(1)

  // asked again and allowed: every hall, nearest first, with distances
  const allowed = page.instance.useLocation()
  await until(() => text(page).includes('隐私保护提示'), 'the privacy question again')
  popup(page).agreed()
  await allowed
  expect(page.data.located).toBe(true)
  expect(page.data.halls.map((h) => h.name)).toEqual(['天河区政务服务中心', '广州市政务服务中心', '越秀区政务服务中心'])
  expect(page.data.halls[0].label).toMatch(/^距您 \d+ 米 · /)
  expect(page.data.halls[2].label).toMatch(/^距您 \d+\.\d 公里 · /)
  expect(page.data.markers).toHaveLength(3)
  expect(text(page)).toContain('离您最近的大厅')
  page.instance.onMarker({ detail: { markerId: 0 } }) // a tapped marker opens its hall
  expect(lastNavigation()).toBe(`/halls/hall/index?id=${TIANHE}`)
  page.detach()
})

test('a matter guide lists only the halls that handle the matter', async () => {
  loginAs(world.halls.person)
  const page = renderPage('halls/list', { matter: '440100-WJ-0008' }) // 新生儿预防接种证: not at Tianhe
  await page.instance.ready
  expect(page.data.halls.map((h) => h.name).sort()).toEqual(['广州市政务服务中心', '越秀区政务服务中心'])
  await until(() => page.data.matterName, 'the matter name')
  expect(text(page)).toContain('能办理“新生儿预防接种证办理”的大厅')
  expect(page.data.halls[0].url).toContain('&matter=440100-WJ-0008')
  page.detach()
})

test('booking a period gives a check-in code; a full period cannot be chosen; 我的预约 moves and cancels it', async () => {
  // another resident fills tomorrow's 10:00 period of queue A (four places) with four matters
  const tomorrow = today(1)
  for (const matter of ['440100-GA-0031', SOCIAL, '440100-GJJ-0011', '440100-GA-0041']) {
    await api.create('/api/v1/appointments', { hall: TIANHE, matter, day: tomorrow, time: '10:00' }, newIdempotencyKey(),
      as(world.halls.filler.access_token)).catch((e) => { if (e.code !== 'slot_full') throw e })
  }
  loginAs(world.halls.person)
  const page = renderPage('halls/hall', { id: TIANHE, matter: RESIDENCE })
  await page.instance.ready
  expect(page.data.h.name).toBe('天河区政务服务中心')
  expect(page.data.hours).toBe('今天 全天开放')
  expect(page.data.windows.map((w) => w.name)).toContain('4 号婚姻登记窗口')
  expect(page.data.windows.find((w) => w.number === 4).serves).toBe('补领结婚证')
  expect(text(page)).toContain('各事项排队情况')
  expect(page.data.matter).toMatchObject({ code: RESIDENCE, name: '居住证申领', queue: '综合业务' })
  page.instance.call()
  expect(calls).toContainEqual(['makePhoneCall', page.data.h.phone])

  const day = page.data.days.findIndex((d) => d.day === tomorrow)
  page.instance.pickDay({ currentTarget: { dataset: { index: day } } })
  const full = page.data.periods.findIndex((p) => p.time === '10:00')
  expect(page.data.periods[full]).toMatchObject({ left: 0, full: true })
  expect(text(page)).toContain('已约满')
  page.instance.pickSlot({ currentTarget: { dataset: { index: full } } })
  expect(page.data.slot).toBe(null) // cannot be chosen
  const eleven = page.data.periods.findIndex((p) => p.time === '11:00')
  expect(page.data.periods[eleven].full).toBe(false)
  page.instance.pickSlot({ currentTarget: { dataset: { index: eleven } } })
  expect(text(page)).toContain('预约 明天')
  await page.instance.book()
  const booked = page.data.booked
  expect(booked).toMatchObject({ state: 'booked', day: tomorrow, time: '11:00', matter_name: '居住证申领' })
  expect(booked.code).toMatch(/^\d{8}$/)
  expect(text(page)).toContain(`预约码 ${booked.code}`)
  page.instance.toAppointments()
  expect(lastNavigation()).toBe('/halls/appointments/index')
  page.detach()

  const mine = renderPage('halls/appointments')
  await mine.instance.ready
  expect(text(mine)).toContain('居住证申领')
  expect(text(mine)).toContain(`预约码 ${booked.code}`)
  expect(text(mine)).toContain('已预约')
  expect(text(mine)).not.toContain('暂时不能预约')
  mine.instance.reschedule({ currentTarget: { dataset: { id: booked.id } } })
  expect(lastNavigation()).toBe(`/halls/hall/index?id=${TIANHE}&reschedule=${booked.id}`)
  mine.detach()

  // 改期 on the hall page: the same booking moves to 12:00
  const move = renderPage('halls/hall', { id: TIANHE, reschedule: booked.id })
  await move.instance.ready
  expect(move.data.rescheduling.id).toBe(booked.id)
  expect(text(move)).toContain('改到哪个时段')
  move.instance.pickDay({ currentTarget: { dataset: { index: move.data.days.findIndex((d) => d.day === tomorrow) } } })
  move.instance.pickSlot({ currentTarget: { dataset: { index: move.data.periods.findIndex((p) => p.time === '12:00') } } })
  await move.instance.book()
  expect(move.data.booked).toMatchObject({ id: booked.id, time: '12:00', code: booked.code })
  expect(toasts()).toContain('已改期')
  move.instance.toAppointments()
  expect(calls[calls.length - 1]).toEqual(['navigateBack'])
  move.detach()

  const again = renderPage('halls/appointments')
  await again.instance.ready
  expect(again.data.items.find((a) => a.id === booked.id).when).toContain('12:00-12:30')
  await again.instance.cancel({ currentTarget: { dataset: { id: booked.id } } })
  expect(calls).toContainEqual(['showModal', '取消预约'])
  expect(toasts()).toContain('已取消预约')
  const cancelled = again.data.items.find((a) => a.id === booked.id)
  expect(cancelled).toMatchObject({ state_name: '已取消', live: false, code: null })
  expect(text(again)).not.toContain(booked.code)
  expect((await api.get(`/api/v1/appointments/${booked.id}`)).state).toBe('cancelled')
  again.detach()
})

test('when no-shows have blocked booking, 我的预约 says until when and the hall page says why', async () => {
  loginAs(world.halls.blocked)
  const [y, m, d] = world.halls.blocked.until.split('-').map(Number)
  const mine = renderPage('halls/appointments')
  await mine.instance.ready
  expect(text(mine)).toContain(`${y}年${m}月${d}日前暂时不能预约`)
  expect(mine.data.items.filter((a) => a.state_name === '已爽约')).toHaveLength(3)
  mine.detach()

  const page = renderPage('halls/hall', { id: TIANHE, matter: '440100-GA-0041' })
  await page.instance.ready
  page.instance.pickSlot({ currentTarget: { dataset: { index: page.data.periods.findIndex((p) => !p.full) } } })
  await page.instance.book()
  expect(page.data.booked).toBe(null)
  expect(page.data.bookError).toContain(`${world.halls.blocked.until} 前不能预约`)
  expect(text(page)).toContain(page.data.bookError)
  page.detach()
})

test('a number taken near the hall moves live as the window calls, is called to the window, and rejoins once after 过号', async () => {
  // the clerk's window, with nothing left at it from before
  await api.post(atWindow('/open'), {}, clerk)
  const desk = await api.get(atWindow(''), clerk)
  for (const n of desk.current) {
    const served = n.state === 'called' ? await api.post(atWindow(`/numbers/${n.id}/serve`), { version: n.version }, clerk) : n
    await api.post(atWindow(`/numbers/${served.id}/finish`), { version: served.version }, clerk)
  }
  // two people without a phone got numbers at the 导服台 first
  for (const name of ['甲', '乙']) await api.post(`/api/v1/staff/halls/${TIANHE}/numbers`, { matter: RESIDENCE, name }, guide)

  loginAs(world.halls.person)
  const hall = renderPage('halls/hall', { id: TIANHE, matter: SOCIAL })
  await hall.instance.ready
  expect(hall.data.near).toBe(true) // about 80 m away, the hall open
  expect(text(hall)).toContain('线上取号（您在大厅附近，约')
  await hall.instance.takeNumber()
  const url = lastNavigation()
  expect(url).toMatch(/^\/halls\/number\/index\?id=n[0-9a-f]{24}$/)
  const id = url.split('id=')[1]
  hall.detach()

  const page = renderPage('halls/number', { id })
  await page.instance.ready
  await until(() => page.data.live, 'the socket open')
  expect(page.data.n).toMatchObject({ id, state: 'waiting', matter_name: '社会保障卡申领' })
  expect(page.data.n.label).toMatch(/^A\d{3}$/)
  const before = page.data.n.ahead
  expect(before).toBeGreaterThanOrEqual(2)
  expect(text(page)).toContain(`前面还有 ${before} 人，预计 ${page.data.n.wait_minutes} 分钟`)

  // the clerk calls the next number: the page moves on by itself (no polling while the socket is up)
  let called = await api.post(atWindow('/call-next'), {}, clerk)
  expect(called.id).not.toBe(id)
  await until(() => page.data.n.ahead === before - 1, 'the place moving live', 8000)
  expect(text(page)).toContain(`前面还有 ${before - 1} 人`)
  expect(page.instance.poll).toBeFalsy()
  while (called.id !== id) {
    const serving = await api.post(atWindow(`/numbers/${called.id}/serve`), { version: called.version }, clerk)
    await api.post(atWindow(`/numbers/${called.id}/finish`), { version: serving.version }, clerk)
    called = await api.post(atWindow('/call-next'), {}, clerk)
  }
  await until(() => page.data.n.state === 'called', 'the call', 8000)
  expect(text(page)).toContain('请到 2 号综合窗口')
  expect(text(page)).toContain('已叫到您的号')

  // not there: 过号, then 重新排队 once from the phone
  await api.post(atWindow(`/numbers/${id}/skip`), { version: called.version }, clerk)
  await until(() => page.data.n.state === 'skipped', '过号', 8000)
  expect(page.data.n.can_rejoin).toBe(true)
  expect(text(page)).toContain('重新排队')
  await page.instance.rejoin()
  expect(page.data.n.state).toBe('waiting')
  expect(toasts()).toContain('已重新排队')
  expect(text(page)).toMatch(/前面(还有 \d+ 人|没有人了)/)

  // called and 过号 again: the number ends, no second rejoin
  let next = await api.post(atWindow('/call-next'), {}, clerk)
  while (next.id !== id) {
    const serving = await api.post(atWindow(`/numbers/${next.id}/serve`), { version: next.version }, clerk)
    await api.post(atWindow(`/numbers/${next.id}/finish`), { version: serving.version }, clerk)
    next = await api.post(atWindow('/call-next'), {}, clerk)
  }
  await api.post(atWindow(`/numbers/${id}/skip`), { version: next.version }, clerk)
  await until(() => page.data.n.state === 'left', 'the number ended', 8000)
  expect(page.data.n.can_rejoin).toBe(false)
  expect(text(page)).toContain('请到导服台重新取号')
  expect(text(page)).not.toContain('重新排队')
  page.detach()
  await api.post(atWindow('/close'), {}, clerk)
})

test('without an id the number page shows today\'s number, and one that cannot be loaded says so with 重试', async () => {
  loginAs(world.halls.person)
  const page = renderPage('halls/number')
  await page.instance.ready
  expect(page.data.n.label).toMatch(/^A\d{3}$/) // the one from the test before, today
  page.detach()
  const missing = renderPage('halls/number', { id: `n${'0'.repeat(24)}` })
  await missing.instance.ready
  expect(missing.data.error).toContain('没有找到这个排队号')
  expect(text(missing)).toContain('重试')
  missing.detach()
})

test('线上取号 is offered within the hall\'s own radius (1.5 km in this run), not a distance written into the app', async () => {
  loginAs(world.halls.person)
  try {
    here = { latitude: 23.1364, longitude: 113.3615 } // about 1.2 km north of the Tianhe hall
    const near = renderPage('halls/hall', { id: TIANHE, matter: SOCIAL })
    await near.instance.ready
    expect(near.data.h.remote_radius_m).toBe(1500)
    expect(near.data.near).toBe(true)
    expect(text(near)).toMatch(/线上取号（您在大厅附近，约 1\.\d 公里）/)
    near.detach()

    here = { latitude: 23.1436, longitude: 113.3615 } // about 2 km
    const far = renderPage('halls/hall', { id: TIANHE, matter: SOCIAL })
    await far.instance.ready
    expect(far.data.located).toBe(true)
    expect(far.data.near).toBe(false)
    expect(text(far)).toMatch(/到大厅附近（约 1\.5 公里内）可以线上取号；现在距离约 2\.\d 公里/)
    expect(text(far)).not.toContain('线上取号（')
    far.detach()
  } finally { here = NEAR_TIANHE }
})
