// 亲友代办 against the real backend (tests/superapp/test_miniapp.py made the world: a mother
// with her ID card and her newborn's 出生医学证明 in the wallet, her son to whom she granted
// 办事 + 证照 and who accepted, a neighbour). Several phones, one at a time: the mother's page
// lists her grant and authorises the neighbour by phone (checked before sending), changes and
// revokes it with a confirmation, and claims guardianship of her child; the neighbour declines,
// then accepts; the son taps 代办 on his mother's grant: a banner on every main page, no person
// code, her certificate in the wallet, an application filed in her name; an expired acting
// token is re-issued with his own; she revokes and his next request switches him back with a
// message; the mother acting for her child switches back through the banner.
const fs = require('fs')
const { wx, store, calls, willChoose } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const P = world.proxies
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
const masked = (name) => name[0] + '*'.repeat(name.length - 1)
const toasts = () => calls.filter((c) => c[0] === 'showToast').map((c) => c[1])
const last = (kind) => (calls.filter((c) => c[0] === kind).pop() || [])[1]
// the banner's words ("正在为 王** 代办 · 切换回本人"): whom for, '' when not shown
const banner = (page) => {
  const bar = page.querySelector('#acting')
  const m = bar && bar.dom.textContent.match(/^正在为 (\S+) 代办\s*·\s*切换回本人$/)
  return m ? m[1] : ''
}

// a day in Beijing, `days` from today
function day(days) {
  const d = new Date(Date.now() + 8 * 3600 * 1000 + days * 86400 * 1000)
  return d.toISOString().slice(0, 10)
}

// `years` from today in Beijing, as the page's default expiry
function inYears(years) {
  const b = new Date(Date.now() + 8 * 3600 * 1000)
  return new Date(Date.UTC(b.getUTCFullYear() + years, b.getUTCMonth(), b.getUTCDate())).toISOString().slice(0, 10)
}

// one phone at a time: each person's tokens (rotated ones too) kept while another's is in use
const phones = { mother: P.mother, son: P.son, neighbour: P.neighbour }
let current = null
function use(name) {
  if (current) phones[current] = { access_token: store.get('superapp.access'), refresh_token: store.get('superapp.refresh') }
  store.delete('superapp.acting')
  store.set('superapp.access', phones[name].access_token)
  store.set('superapp.refresh', phones[name].refresh_token)
  current = name
}
// someone else acting through the same HTTP API with their own token
const as = (name) => ({ anonymous: true, header: { Authorization: `Bearer ${(name === current ? { access_token: store.get('superapp.access') } : phones[name]).access_token}` } })

async function open(name, query) {
  const page = renderPage(name, query)
  await page.instance.ready
  return page
}
const tapData = (data) => ({ currentTarget: { dataset: data } })

afterEach(detachAll)

test('亲友代办 is one tap from 我的; the mother sees her grant to her son in words', async () => {
  use('mother')
  const mine = await open('mine')
  expect(text(mine)).toContain('亲友代办')
  expect(banner(mine)).toBe('') // acting for nobody
  mine.detach()
  const page = await open('me/proxies')
  const toSon = page.data.granted.find((g) => g.id === P.grant)
  expect(toSon).toMatchObject({ title: masked(P.son.name), stateName: '生效中', label: `办事、证照（查看与使用） · 至 ${P.expires_on}` })
  expect(text(page)).toContain(`${masked(P.son.name)} 生效中 办事、证照（查看与使用） · 至 ${P.expires_on}`)
  expect(text(page)).toContain('监护未成年子女')
})

test('the mother authorises a neighbour by phone (checked first), the neighbour declines, then accepts; 修改 and 撤销 with a confirmation', async () => {
  use('mother')
  const page = await open('me/proxies')
  const before = (await api.get('/api/v1/me/proxies')).granted.length
  await page.instance.submit() // nothing filled in: told what, nothing sent
  expect(page.data.errors.phone).toContain('手机号')
  expect(page.data.errors.scopes).toContain('至少选择一项')
  expect(text(page)).toContain('请至少选择一项可以代办的事')
  page.instance.onPhone({ detail: P.neighbour.phone })
  page.instance.toggleScope(tapData({ scope: 'tickets' }))
  page.instance.onDate({ detail: { value: day(3 * 366 + 10) } }) // beyond 3 years: the server's words, by the field
  await page.instance.submit()
  expect(page.data.errors.expires_on).toContain('3 年')
  expect((await api.get('/api/v1/me/proxies')).granted).toHaveLength(before)
  page.instance.onDate({ detail: { value: day(60) } })
  await page.instance.submit()
  expect(toasts()).toContain('已发送授权，等对方接受后生效')
  let g = page.data.granted.find((x) => x.title === masked(P.neighbour.name))
  expect(g).toMatchObject({ stateName: '待对方接受', label: `12345 诉求 · 至 ${day(60)}` })
  expect(page.data.phone).toBe('') // the form is empty again
  page.detach()

  // the neighbour's phone: a pending grant with 接受 / 拒绝; declined
  use('neighbour')
  let theirs = await open('me/proxies')
  let r = theirs.data.received.find((x) => x.id === g.id)
  expect(r).toMatchObject({ title: masked(P.mother.name), stateName: '待对方接受' })
  expect(text(theirs)).toContain('接受')
  expect(text(theirs)).toContain('拒绝')
  await theirs.instance.answer(tapData({ id: g.id, accept: false }))
  expect(theirs.data.received.find((x) => x.id === g.id).stateName).toBe('对方已拒绝')
  theirs.detach()

  // the mother sees it declined (nothing to change or revoke) and asks again
  use('mother')
  const again = await open('me/proxies')
  expect(again.data.granted.find((x) => x.id === g.id)).toMatchObject({ stateName: '对方已拒绝', live: false })
  again.instance.onPhone({ detail: P.neighbour.phone })
  again.instance.toggleScope(tapData({ scope: 'tickets' }))
  await again.instance.submit()
  g = again.data.granted.find((x) => x.title === masked(P.neighbour.name) && x.live)
  expect(g.label).toBe(`12345 诉求 · 至 ${inYears(1)}`) // the default: a year
  // 修改: another scope and date; the form says whose grant it is
  again.instance.edit(tapData({ id: g.id }))
  expect(text(again)).toContain(`修改对 ${masked(P.neighbour.name)} 的授权`)
  expect(again.data.scopes.filter((s) => s.checked).map((s) => s.key)).toEqual(['tickets'])
  again.instance.toggleScope(tapData({ scope: 'appointments' }))
  again.instance.onDate({ detail: { value: day(90) } })
  await again.instance.submit()
  expect(toasts()).toContain('授权已修改')
  g = again.data.granted.find((x) => x.id === g.id)
  expect(g.label).toBe(`预约与取号、12345 诉求 · 至 ${day(90)}`)
  expect(again.data.editing).toBe(null)
  again.detach()

  use('neighbour')
  theirs = await open('me/proxies')
  await theirs.instance.answer(tapData({ id: g.id, accept: true }))
  expect(toasts()).toContain('已接受，可以为对方代办了')
  r = theirs.data.received.find((x) => x.id === g.id)
  expect(r.stateName).toBe('生效中')
  expect(text(theirs)).toMatch(new RegExp(`${masked(P.mother.name).replace(/\*/g, '\\*')} 生效中 预约与取号、12345 诉求 · 至 ${day(90)}\\s*代办`))
  theirs.detach()

  // 撤销, confirmed first
  use('mother')
  const modals = calls.filter((c) => c[0] === 'showModal').length
  const last_ = await open('me/proxies')
  last_.instance.revoke(tapData({ id: g.id }))
  await until(() => last_.data.granted.find((x) => x.id === g.id).stateName === '已撤销', 'revoked')
  expect(calls.filter((c) => c[0] === 'showModal').slice(modals).map((c) => c[1])).toEqual(['撤销代办授权'])
  last_.detach()
  use('neighbour')
  const gone = await api.get('/api/v1/me/proxies')
  expect(gone.received.find((x) => x.id === g.id).state).toBe('revoked')
})

test('the mother claims guardianship of her newborn: a name not on the birth certificate is refused', async () => {
  use('mother')
  const page = await open('me/proxies')
  await page.instance.claim()
  expect(page.data.childErrors.child_name).toContain('子女姓名')
  page.instance.onChildName({ detail: '陈大宝' })
  page.instance.onChildId({ detail: P.child.id_number.toLowerCase() })
  await page.instance.claim()
  expect(page.data.childError).toContain('出生医学证明')
  expect(page.data.received).toEqual([])
  page.instance.onChildName({ detail: P.child.name })
  page.instance.onChildId({ detail: P.child.id_number })
  await page.instance.claim()
  expect(toasts()).toContain('已登记为监护人')
  const child = page.data.received[0]
  expect(child).toMatchObject({ title: `${masked(P.child.name)}（未成年子女 · 监护）`, stateName: '生效中', guardian: true })
  expect(child.label).toMatch(/^办事、证照（查看与使用）、预约与取号、12345 诉求 · 至 \d{4}-\d{2}-\d{2}$/)
})

test('the son acts for his mother: a banner on every page, no person code, her certificate, an application in her name', async () => {
  use('son')
  const page = await open('me/proxies')
  const g = page.data.received.find((x) => x.id === P.grant)
  expect(g.stateName).toBe('生效中')
  expect(text(page)).toMatch(new RegExp(`生效中 办事、证照（查看与使用） · 至 ${P.expires_on}\\s*代办`))
  await page.instance.act(tapData({ id: g.id }))
  expect(store.get('superapp.acting').person).toMatchObject({ person_id: P.mother.person_id, name: masked(P.mother.name),
    kind: 'authorised', scopes: ['certificates', 'matters'] })
  expect(store.get('superapp.access')).toBe(phones.son.access_token) // his own token kept apart
  expect(toasts()).toContain(`正在为 ${masked(P.mother.name)} 代办`)
  expect(last('reLaunch')).toBe('/pages/index/index')
  page.detach()
  const shown = toasts().length

  // the home page: no code (only she may show it), what he may do, the way back
  const home = await open('index')
  expect(banner(home)).toBe(masked(P.mother.name))
  expect(text(home)).toContain('服务码是本人身份的凭证，只能由本人出示')
  expect(home.data.actingScopes).toBe('可以代办：办事、证照（查看与使用）')
  expect(home.data.code).toBe(null)
  expect(home.data.imageSrc).toBe('')
  home.detach()
  // her wallet: the ID card issued to her (his own wallet is empty)
  const wallet = await open('wallet')
  expect(banner(wallet)).toBe(masked(P.mother.name))
  expect(text(wallet)).toContain(`${masked(P.mother.name)} 的证照`)
  expect(text(wallet)).toContain('居民身份证')
  wallet.detach()
  const matters = await open('matters')
  expect(banner(matters)).toBe(masked(P.mother.name))
  expect(text(matters)).toContain('社会保障卡申领')
  matters.detach()
  const mine = await open('mine')
  expect(banner(mine)).toBe(masked(P.mother.name))
  expect(text(mine)).toContain(`${masked(P.mother.name)} 的记录`)
  expect(text(mine)).toContain('我的办件')
  for (const not of ['注销账号', '亲友代办', '12345 我的诉求', '账户动态']) expect(text(mine)).not.toContain(not)
  mine.detach()
  expect(toasts().slice(shown)).toEqual([]) // nothing refused on the way

  // an application filed for her: her details pre-filled, listed as hers
  const apply = await open('affairs/apply', { code: '440100-RS-0033' })
  expect(banner(apply)).toBe(masked(P.mother.name))
  expect(text(apply)).toContain(`姓名=${P.mother.name}`)
  const bank = apply.data.fields.find((f) => f.key === 'bank')
  apply.instance.onPick({ currentTarget: { dataset: { key: 'bank' } }, detail: { value: bank.options.indexOf('建设银行') } })
  willChoose('photo.png', PNG)
  await apply.instance.upload({ currentTarget: { dataset: { id: 'photo' } } })
  await apply.instance.submit()
  const id = last('redirectTo').split('id=')[1]
  expect(id).toMatch(/^a[0-9a-f]{24}$/)
  apply.detach()
  const list = await open('affairs/applications')
  expect(banner(list)).toBe(masked(P.mother.name))
  const made = list.data.items.find((a) => a.id === id)
  expect(text(list)).toContain(made.number)
  list.detach()
  const hers = (await api.get('/api/v1/applications', as('mother'))).items
  expect(hers.map((a) => a.id)).toContain(id)
  const detail = await api.get(`/api/v1/applications/${id}`, as('mother'))
  expect(detail.timeline[0].comment).toBe(`由亲友 ${masked(P.son.name)} 代办提交`)
  expect(toasts().slice(shown)).toEqual([])

  // what she did not grant, and what only she may do: said plainly
  const tickets = await open('hotline/list')
  expect(tickets.data.error).toBe('对方没有授权您代办“12345 诉求”')
  tickets.detach()
  const manage = await open('me/proxies')
  expect(manage.data.error).toContain('只能由本人管理')
  manage.detach()
})

test('an expired acting token is issued again with his own token', async () => {
  expect(store.get('superapp.acting')).toBeTruthy() // still acting for her
  store.set('superapp.acting', { access_token: P.expired_acting, person: P.acting_person })
  const own = store.get('superapp.access')
  const [w, me] = await Promise.all([api.get('/api/v1/wallet'), api.get('/api/v1/me')]) // one re-issue for both
  expect(w.items.map((c) => c.type_name)).toContain('居民身份证') // hers (his own wallet is empty)
  expect(me.id).toBe(P.mother.person_id)
  const renewed = store.get('superapp.acting').access_token
  expect(renewed).not.toBe(P.expired_acting)
  expect(store.get('superapp.acting').person.name).toBe(masked(P.mother.name))
  expect(store.get('superapp.access')).toBe(own)
})

test('the mother revokes: his next request switches him back to himself, saying so', async () => {
  const shown = toasts().length
  const modals = calls.filter((c) => c[0] === 'showModal').length
  const g = (await api.get('/api/v1/me/proxies', as('mother'))).granted.find((x) => x.id === P.grant)
  const rev = await api.post(`/api/v1/me/proxies/${P.grant}/revoke`, { version: g.version }, as('mother'))
  expect(rev.state).toBe('revoked')
  const wallet = await open('wallet')
  expect(store.has('superapp.acting')).toBe(false)
  expect(wallet.data.error).toBe(`${masked(P.mother.name)} 的代办授权已撤销或已到期，已切换回您本人`)
  expect(calls.filter((c) => c[0] === 'showModal').slice(modals).map((c) => c[1])).toEqual(['已切换回本人'])
  expect(last('reLaunch')).toBe('/pages/index/index')
  expect(toasts().slice(shown)).toEqual([]) // said once, in the dialog
  // from now on he is himself: his own (empty) wallet, no banner
  await wallet.instance.load()
  expect(banner(wallet)).toBe('')
  expect(text(wallet)).toContain('卡包里还没有电子证照')
  expect(wallet.data.title).toBe('我的电子证照')
  expect((await api.get('/api/v1/me')).id).toBe(P.son.person_id)
  wallet.detach()
  // and he cannot start again
  const page = await open('me/proxies')
  expect(page.data.received.find((x) => x.id === P.grant).stateName).toBe('已撤销')
  expect(text(page)).toContain(`已撤销 办事、证照（查看与使用） · 至 ${P.expires_on}`)
  expect(text(page)).not.toMatch(new RegExp(`已撤销 办事、证照（查看与使用） · 至 ${P.expires_on}\\s*代办`)) // nothing to act on
})

test('the mother acts for her child, then switches back through the banner', async () => {
  use('mother')
  const page = await open('me/proxies')
  const child = page.data.received.find((x) => x.guardian)
  await page.instance.act(tapData({ id: child.id }))
  expect(store.get('superapp.acting').person).toMatchObject({ name: masked(P.child.name), kind: 'guardian' })
  page.detach()
  const wallet = await open('wallet')
  expect(banner(wallet)).toBe(masked(P.child.name))
  expect(text(wallet)).toContain('卡包里还没有电子证照') // the child's own wallet
  const shown = toasts().length
  const bar = wallet.querySelector('#acting')
  bar.querySelector('.acting').dispatchEvent('tap')
  await until(() => !store.has('superapp.acting'), 'switched back')
  expect(toasts().slice(shown)).toEqual(['已切换回本人'])
  expect(last('reLaunch')).toBe('/pages/index/index')
  expect(store.get('superapp.access')).toBe(phones.mother.access_token)
  expect((await api.get('/api/v1/me')).id).toBe(P.mother.person_id)
  await wallet.instance.load()
  expect(banner(wallet)).toBe('')
  expect(text(wallet)).toContain('居民身份证') // her own again
  wallet.detach()
  // her own code is shown again
  const home = await open('index')
  await until(() => home.data.code, 'her person code')
  expect(home.data.code.code).toMatch(/^SA1:/)
  expect(home.data.acting).toBe(null)
})
