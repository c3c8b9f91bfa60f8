// Every main screen, as a person with a small phone, with 适老化 on, with a screen reader, and
// when the network or the server fails: Debian's Chromium driven by playwright-core, against
// the real app (tests/superapp/test_e2e_h5.py writes the world to $E2E_WORLD).
//
// - axe-core (injected through the DevTools protocol: the app's CSP refuses injected
//   scripts, Runtime.evaluate is not subject to it): no critical or serious violation;
// - at 360 px, normal and 适老化: nothing wider than the screen, no overlapping header
//   parts, touch targets of at least 48 px in 适老化 mode;
// - loading / empty / error states: a failing response (Playwright routing) shows plain
//   Chinese with 重试, which recovers; a page whose code cannot load says the network is
//   gone and recovers when it is back.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, axe, json, launch, layout, mobilePage, residentSession, settled, t, totp, world } from './checks.mjs'

const RESIDENCE = '440100-GA-0012'
let browser

before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

let residentTokens
let staffTokens
let certificateId

before(async () => {
  residentTokens = await residentSession(world.viewer)
  certificateId = (await json('/api/v1/wallet', { token: residentTokens.access })).items[0].id
  const s = world.staff['gjj.shenhe']
  const r = await json('/api/v1/staff/login', { method: 'POST', body: { username: s.username, password: s.password, totp: totp(s.totp_secret) } })
  staffTokens = { access: r.access_token, refresh: r.refresh_token, me: JSON.stringify(r.staff) }
})

// A small phone signed in as both the resident and the staff member (sessions live in sessionStorage:
// seeded before the app's own code runs)
async function phone({ elder = false, width = 360, height = 740 } = {}) {
  const page = await mobilePage(browser, { resident: residentTokens, staff: staffTokens, elder, width, height })
  // nothing is fetched from another host (fonts, icons, scripts: all our own)
  page.elsewhere = []
  page.on('request', (r) => { if (!/^(data|blob):/.test(r.url()) && !r.url().startsWith(BASE)) page.elsewhere.push(r.url()) })
  return page
}

const SCREENS = [
  ['服务码首页', '/', t('person-code')],
  ['卡包', '/wallet', '[data-test^="cert-"]'],
  ['证照详情', () => `/wallet/${certificateId}`, t('cert-detail')],
  ['办事服务', '/matters', t(`matter-${RESIDENCE}`)],
  ['办事指南', `/matters/${RESIDENCE}`, t('guide')],
  ['在线办理', `/matters/${RESIDENCE}/apply`, t('submit')],
  ['我的办件', '/applications', t('empty-state')],
  ['我的', '/mine', t('me')],
  ['实名认证', '/realname', t('verify')],
  ['注销账号', '/mine/close', `${t('close-account')}, ${t('obligations')}`],
  ['我的诉求', '/tickets', `${t('empty-state')}, ${t('new-ticket')}`],
  ['我要反映', '/tickets/new', t('ticket-submit')],
  ['办事大厅', '/halls', t('hall-gz-hall-tianhe')],
  ['大厅详情与预约', `/halls/gz-hall-tianhe?matter=${RESIDENCE}`, '[data-test^="slot-"]'],
  ['我的预约与排队号', '/halls/appointments', t('empty-state')],
  ['叫号屏', '/hall/gz-hall-tianhe/display', t('display-device-id')],
  ['页面不存在', '/no-such-page', '.van-empty'],
  ['企业服务', '/portal', 'main'],
  ['自助终端', '/kiosk', t('device-id')],
  ['审批工作台', '/staff', `${t('queue')}, ${t('empty-state')}`],
  ['统计', '/staff/stats', 'main'],
  ['诉求工作台', '/staff/tickets', `${t('ticket-queue')}, ${t('empty-state')}`],
]

for (const elder of [false, true]) {
  test(`every main screen at 360 px${elder ? ' in 适老化 mode' : ''}: ${elder ? 'large targets' : 'axe clean'}, nothing overflows or overlaps`, async () => {
    const page = await phone({ elder })
    for (const [name, path, ready] of SCREENS) {
      await page.goto(typeof path === 'function' ? path() : path)
      await page.locator(ready).first().waitFor().catch(async (e) => {
        throw new Error(`${name}: ${e.message.split('\n')[0]}; the screen shows: ${(await page.locator('body').innerText()).slice(0, 300)}`)
      })
      await settled(page)
      await layout(page, name, elder)
      if (!elder) await axe(page, name)
      assert.equal(await page.locator('main').count(), 1, `${name}: one <main>`)
      assert.ok(await page.locator('h1').count() >= 1, `${name}: a heading`)
    }
    // the login screen, signed out
    const out = await browser.newContext({ baseURL: BASE, viewport: { width: 360, height: 740 }, locale: 'zh-CN' })
    const login = await out.newPage()
    await login.goto('/login')
    await login.locator(t('agreement-user')).waitFor()
    await settled(login)
    await layout(login, '登录', false)
    await axe(login, '登录')
    await out.close()
    assert.deepEqual(page.errors, [])
    assert.deepEqual(page.elsewhere, [], 'requests to other hosts')
    await page.context().close()
  })
}

const failing = (status = 503, code = 'service_unavailable') => (route) => route.fulfill({
  status, contentType: 'application/problem+json',
  body: JSON.stringify({ type: `/problems/${code}`, title: '服务暂时不可用', status, code, detail: '服务暂时不可用', errors: [] }),
})

test('a failing request shows plain Chinese and 重试, which recovers; empty lists offer the next step', async () => {
  const page = await phone()

  // the wallet
  await page.route('**/api/v1/wallet', failing())
  await page.goto('/wallet')
  const err = page.locator(t('error-state'))
  await err.waitFor()
  assert.match(await err.innerText(), /服务暂时繁忙/)
  assert.doesNotMatch(await err.innerText(), /service_unavailable|503|请求参数/)
  await page.unroute('**/api/v1/wallet')
  await page.click(t('retry'))
  await page.locator('[data-test^="cert-"]').first().waitFor()

  // the service code: the code is not silently gone
  await page.route('**/api/v1/codes/person', failing())
  await page.goto('/')
  await page.locator(t('error-state')).waitFor()
  await page.unroute('**/api/v1/codes/person')
  await page.click(t('retry'))
  await page.locator(t('person-code')).waitFor()

  // a matter guide; an unknown certificate is a sentence, not a blank page
  await page.route(`**/api/v1/matters/${RESIDENCE}`, failing())
  await page.goto(`/matters/${RESIDENCE}`)
  await page.locator(t('error-state')).waitFor()
  await page.unroute(`**/api/v1/matters/${RESIDENCE}`)
  await page.click(t('retry'))
  await page.locator(t('guide')).waitFor()
  await page.goto('/wallet/c000000000000000000000000')
  const gone = page.locator(t('error-state'))
  await gone.waitFor()
  assert.match(await gone.innerText(), /没有找到/)

  // the halls: a failing list, and a queue number that is not there
  await page.route('**/api/v1/halls?*', failing())
  await page.route('**/api/v1/halls', failing())
  await page.goto('/halls')
  await page.locator(t('error-state')).waitFor()
  await page.unroute('**/api/v1/halls?*')
  await page.unroute('**/api/v1/halls')
  await page.click(t('retry'))
  await page.locator(t('hall-gz-hall-tianhe')).waitFor()
  await page.goto('/halls/numbers/n000000000000000000000000')
  assert.match(await page.locator(t('error-state')).innerText(), /没有找到/)

  // an empty list says what to do next
  await page.goto('/applications')
  await page.locator(t('empty-state')).waitFor()
  await page.click(t('empty-action'))
  await page.waitForURL(/\/matters$/)

  // while loading, a skeleton, never an empty page
  await page.route('**/api/v1/wallet', async (route) => { await new Promise((r) => setTimeout(r, 1500)); await route.continue() })
  await page.goto('/wallet')
  await page.locator(t('loading')).waitFor()
  await page.locator('[data-test^="cert-"]').first().waitFor()
  await page.unroute('**/api/v1/wallet')

  // client-side checks before anything is sent; a corrected field loses its red message
  await page.goto('/realname')
  await page.fill(`${t('name')} input`, '诸葛明察')
  await page.fill(`${t('id-number')} input`, '440106199003153019')
  let sent = false
  await page.route('**/api/v1/me/realname', (route) => { sent = true; return route.continue() })
  await page.click(t('verify'))
  await page.getByText('校验码不对').waitFor()
  assert.equal(sent, false, 'a wrong check character is caught before sending')
  await page.fill(`${t('id-number')} input`, '4401')
  assert.equal(await page.getByText('校验码不对').count(), 0, 'the message goes once the field changes')
  await page.context().close()
})

test('no network: the page says so and recovers when the network is back', async () => {
  const page = await phone()
  const logs = []
  page.on('console', (m) => logs.push(m.text()))
  await page.goto('/')
  await page.locator(t('person-code')).waitFor()
  await page.context().setOffline(true)
  await page.click('text=办事') // its code has not been loaded yet
  await page.locator(t('offline')).waitFor()
  assert.match(await page.locator(t('offline')).innerText(), /网络已断开/)
  await page.context().setOffline(false)
  await page.locator(t(`matter-${RESIDENCE}`)).waitFor({ timeout: 8000 }).catch((e) => { throw new Error(`${e.message}\n${page.url()}\n${logs.join('\n')}`) })
  assert.equal(await page.locator(t('offline')).count(), 0)
  await page.context().close()
})

test('face check in a browser: the provider\'s page, back with its result, then the highest level', async () => {
  const page = await phone()
  await page.goto('/mine')
  await page.click(t('go-face'))
  await page.locator(t('face-failed')).waitFor() // not done yet: the page offers to start
  await axe(page, '人脸核验')
  await page.click(t('face-retry'))
  await page.waitForURL(/\/api\/v1\/dev\/face/) // the provider's page (in development, our stand-in)
  await page.click(t('face-pass'))
  await page.locator(t('face-done')).waitFor()
  await page.goto('/mine')
  await page.locator(t('me')).waitFor()
  assert.match(await page.locator(t('me')).innerText(), /人脸/)
  assert.equal(await page.locator(t('go-face')).count(), 0)
  await page.context().close()
})
