// 政策兑现 / 免申即享 through the screens: a mother whose baby's 出生医学证明 is in her wallet
// sees the 育儿补贴 under 我可享受 with the reason, confirms it with a bank card (a mistyped
// one is caught before anything is sent), the 卫健委's policy staff approve it in their
// console (StaffLogin sends policy-only staff there), the development fake bank pays and calls
// back, and she sees 已发放. axe at 360 px on every screen reached. Started by
// tests/superapp/test_e2e_h5.py (world.policy_parent, world.staff['wjw.zhengce']).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { chromium } from 'playwright-core'
import { axe, layout, settled } from './checks.mjs'

const world = JSON.parse(readFileSync(process.env.E2E_WORLD, 'utf8'))
const BASE = world.base_url
const YUER = 'gz-yebt-2026'
const GOOD_CARD = '6222020200112233446' // passes Luhn
const BAD_CARD = '6222020200112233445' // one check digit off
const t = (name) => `[data-test="${name}"]`
const input = (name) => `[data-test="${name}"] input`
let browser

before(async () => {
  browser = await chromium.launch({
    executablePath: world.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  })
})
after(async () => { await browser?.close() })

async function json(path, { method = 'GET', body, token } = {}) {
  const headers = { 'Content-Type': 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  const r = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = r.status === 204 ? null : await r.json()
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(data)}`)
  return data
}

// A resident's session through the API (the login screen itself is covered by journey 1).
async function residentSession(person) {
  const docs = await fetch(`${BASE}/api/v1/agreements`).then((r) => (r.ok ? r.json() : { items: [] }))
  const agreements = Object.fromEntries(docs.items.map((d) => [d.kind, d.version]))
  await json('/api/v1/auth/sms/send', { method: 'POST', body: docs.items.length ? { phone: person.phone, agreements } : { phone: person.phone } })
  const outbox = await json(`/api/v1/dev/sms-outbox?phone=${person.phone}`)
  const login = await json('/api/v1/auth/sms/verify', { method: 'POST', body: { phone: person.phone, code: outbox.items[0].params.code } })
  const real = await json('/api/v1/me/realname', { method: 'POST', token: login.access_token, body: { name: person.name, id_number: person.id_number } })
  return { access: real.access_token, refresh: real.refresh_token || login.refresh_token }
}

function totp(secret) {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567'
  let bits = ''
  for (const c of secret.replace(/=+$/, '').toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, '0')
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)))
  const counter = Buffer.alloc(8)
  counter.writeBigUInt64BE(BigInt(Math.floor(Date.now() / 1000 / 30)))
  const h = createHmac('sha1', key).update(counter).digest()
  const o = h[h.length - 1] & 0xf
  return String((h.readUInt32BE(o) & 0x7fffffff) % 1_000_000).padStart(6, '0')
}

async function phone(tokens) {
  const ctx = await browser.newContext({ baseURL: BASE, viewport: { width: 360, height: 740 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true, locale: 'zh-CN' })
  ctx.setDefaultTimeout(15000)
  if (tokens) {
    await ctx.addInitScript((r) => {
      if (!sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1')
        sessionStorage.setItem('resident.access', r.access); sessionStorage.setItem('resident.refresh', r.refresh)
      }
      localStorage.setItem('elder_mode', '0')
    }, tokens)
  }
  const page = await ctx.newPage()
  page.errors = []
  page.on('pageerror', (e) => page.errors.push(String(e)))
  page.posts = []
  page.on('request', (r) => { if (r.method() === 'POST') page.posts.push(new URL(r.url()).pathname) })
  return page
}

async function checked(page, name) {
  await settled(page)
  await page.locator('.van-toast').waitFor({ state: 'hidden' }).catch(() => {})
  await layout(page, name, false)
  await axe(page, name)
  assert.equal(await page.locator('main').count(), 1, `${name}: one <main>`)
  assert.ok(await page.locator('h1').count() >= 1, `${name}: a heading`)
}

test('policies: 我可享受 with the reason, confirmed with a bank card (a wrong one caught first), approved by the department, paid by the bank', async () => {
  const mum = world.policy_parent
  const page = await phone(await residentSession(mum))

  // the entry on the home screen
  await page.goto('/')
  await page.click(t('go-policies'))
  await page.waitForURL(/\/policies$/)
  const row = page.locator(t(`eligible-${YUER}`))
  await row.waitFor()
  assert.match(await row.locator(t('reason')).innerText(), /因为您符合：.*出生医学证明/)
  // not eligible ones are there, collapsed, each with what is not met
  assert.ok(await page.locator(t('not-eligible')).count(), 'the not-eligible group')
  assert.equal(await page.locator(t('not-gz-gljt-2026')).isVisible(), false, 'collapsed')
  await page.click(`${t('not-eligible')} .van-collapse-item__title`)
  await page.locator(t('not-gz-gljt-2026')).waitFor()
  assert.match(await page.locator(t('not-gz-gljt-2026')).innerText(), /不符合：年满 80 周岁/)
  await checked(page, '我可享受')

  // the detail: what it is, the rules in words, the confirm form
  await row.click()
  await page.waitForURL(new RegExp(`/policies/${YUER}$`))
  await page.locator(t('confirm-form')).waitFor()
  const detail = await page.locator(t('policy-detail')).innerText()
  assert.match(detail, /育儿补贴/)
  assert.match(detail, /卫生健康委员会/)
  assert.match(detail, /3600/)
  assert.match(await page.locator(t('policy-rules')).innerText(), /子女未满 3 周岁\s*符合/)
  assert.equal(await page.locator(input('account-name')).inputValue(), mum.name, 'the account name from the holder')
  await checked(page, '政策详情（确认领取）')

  // a mistyped card: caught on the phone, nothing sent
  await page.fill(input('bank-account'), BAD_CARD)
  await page.click(t('confirm-claim'))
  const message = page.locator(`${t('bank-account')} .van-field__error-message`)
  await message.waitFor()
  assert.match(await message.innerText(), /银行卡号有误/)
  assert.deepEqual(page.posts.filter((p) => p.endsWith('/claims')), [], 'nothing sent with a wrong card')
  await page.fill(input('bank-account'), GOOD_CARD)
  assert.equal(await message.count(), 0, 'the corrected field loses its message')
  await page.click(t('confirm-claim'))
  const status = page.locator(t('claim-status'))
  await status.waitFor()
  assert.equal(await status.getAttribute('data-state'), 'confirmed')
  assert.match(await status.innerText(), /等待.*卫生健康委员会审核/)
  assert.equal(await page.locator(t('claim-account')).locator('.van-cell__value').innerText(), '6222 **** **** 3446')
  assert.ok(!(await page.content()).includes(GOOD_CARD), 'the card number is shown masked only')
  assert.equal(await page.locator(t('confirm-form')).count(), 0, 'no second confirmation')
  await checked(page, '政策详情（待审核）')

  // the department: policy-only staff land on the review console
  const s = world.staff['wjw.zhengce']
  const desk = await phone()
  await desk.goto('/staff/login')
  await desk.fill(input('staff-username'), s.username)
  await desk.fill(input('staff-password'), s.password)
  await desk.fill(`${t('staff-totp')} input`, totp(s.totp_secret))
  await desk.click(t('staff-login'))
  await desk.waitForURL(/\/staff\/policies$/)
  await desk.locator(t('policy-claims')).waitFor()
  const mine = desk.locator('[data-test^="pc-"]', { hasText: '3 周岁以下婴幼儿育儿补贴' }).filter({ hasText: '3446' }).first()
  await mine.waitFor()
  const id = (await mine.getAttribute('data-test')).slice(3)
  await checked(desk, '政策兑现审核')
  await desk.check(t(`pick-${id}`))
  await desk.click(t('approve-selected'))
  await desk.locator(t('action-done')).waitFor()
  assert.match(await desk.locator(t('action-done')).innerText(), /已通过 1 件/)
  // the bank pays and calls back: the claim is paid
  await desk.click(t('pstate-all'))
  await desk.locator(`${t(`pc-${id}`)}[data-state="paid"]`).waitFor({ timeout: 20000 }).catch(async () => {
    await desk.click(t('pstate-all')) // the list polls; ask once more
    await desk.locator(`${t(`pc-${id}`)}[data-state="paid"]`).waitFor({ timeout: 10000 })
  })

  // the resident sees it paid, with a plain sentence
  await page.reload()
  await status.waitFor()
  assert.equal(await status.getAttribute('data-state'), 'paid')
  assert.match(await status.innerText(), /已发放/)
  await checked(page, '政策详情（已发放）')
  await page.goto('/policies')
  await page.locator(t(`claim-${YUER}`)).waitFor()
  assert.equal(await page.locator(t(`claim-${YUER}`)).locator(t('claim-state')).innerText(), '已发放')
  assert.deepEqual([...page.errors, ...desk.errors], [])
})
