// Checks every browser test applies to the screens it reaches: axe-core (injected through
// the DevTools protocol: the app's CSP refuses injected scripts, Runtime.evaluate is not
// subject to it) and the 360 px / 适老化 layout rules; and what the browser test files share:
// the world tests/superapp/test_e2e_h5.py writes to $E2E_WORLD, Chromium, a phone, the API,
// a resident's session and a staff member's TOTP.
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { chromium } from 'playwright-core'

const require = createRequire(import.meta.url)
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')

// The world the test files run against (registries, people, staff, devices), and the app's address.
export const world = JSON.parse(readFileSync(process.env.E2E_WORLD, 'utf8'))
export const BASE = world.base_url

// An element by its data-test name, and the input inside a field of that name.
export const t = (name) => `[data-test="${name}"]`
export const input = (name) => `[data-test="${name}"] input`

// Debian's Chromium, headless; closed network here: no background connections, no component updates.
export function launch() {
  return chromium.launch({
    executablePath: world.chromium, headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
  })
}

// A phone (360 × 740 unless told) whose browser speaks ``locale``: ``resident`` / ``staff`` sessions are
// seeded into sessionStorage before the app's own code runs, ``elder`` (true / false) sets 适老化 in
// localStorage (not given, the app's own setting stays); page.errors collects the page's errors.
export async function mobilePage(browser, { resident, staff, elder, locale = 'zh-CN', width = 360, height = 740, userAgent } = {}) {
  const ctx = await browser.newContext({ baseURL: BASE, viewport: { width, height }, deviceScaleFactor: 2, isMobile: true,
    hasTouch: true, locale, ...(userAgent ? { userAgent } : {}) })
  ctx.setDefaultTimeout(15000)
  if (resident || staff || elder !== undefined) {
    await ctx.addInitScript(({ r, s, elder }) => {
      if ((r || s) && !sessionStorage.getItem('seeded')) {
        sessionStorage.setItem('seeded', '1')
        if (r) { sessionStorage.setItem('resident.access', r.access); sessionStorage.setItem('resident.refresh', r.refresh) }
        if (s) {
          sessionStorage.setItem('staff.access', s.access); sessionStorage.setItem('staff.refresh', s.refresh)
          sessionStorage.setItem('staff.me', s.me)
        }
      }
      if (elder !== null) localStorage.setItem('elder_mode', elder ? '1' : '0')
    }, { r: resident || null, s: staff || null, elder: elder === undefined ? null : elder })
  }
  const page = await ctx.newPage()
  page.errors = []
  page.on('pageerror', (e) => page.errors.push(String(e)))
  return page
}

// A JSON request to the app's API (with a bearer ``token`` if given); anything but 2xx fails the test.
export async function json(path, { method = 'GET', body, token } = {}) {
  const headers = { 'Content-Type': 'application/json' }
  if (token) headers.Authorization = `Bearer ${token}`
  const r = await fetch(`${BASE}${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  const data = r.status === 204 ? null : await r.json()
  assert.ok(r.ok, `${method} ${path}: ${r.status} ${JSON.stringify(data)}`)
  return data
}

// A resident's session (SMS login, then 实名) through the API: the login screen itself is covered
// by journey 1. Sent again up to ``retries`` times while the server says 429 (one code a second per
// phone: several sessions in a row for one person wait their turn).
export async function residentSession(person, { retries = 0 } = {}) {
  const docs = await fetch(`${BASE}/api/v1/agreements`).then((r) => (r.ok ? r.json() : { items: [] }))
  const agreements = Object.fromEntries(docs.items.map((d) => [d.kind, d.version]))
  const body = docs.items.length ? { phone: person.phone, agreements } : { phone: person.phone }
  for (let i = 0; ; i++) {
    const r = await fetch(`${BASE}/api/v1/auth/sms/send`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) })
    if (r.status !== 429 || i >= retries) { assert.ok(r.ok, `sms/send: ${r.status} ${await r.text()}`); break }
    const wait = 1000 * ((await r.json()).retry_after || 1) + 100
    await new Promise((done) => setTimeout(done, wait))
  }
  const outbox = await json(`/api/v1/dev/sms-outbox?phone=${person.phone}`)
  const login = await json('/api/v1/auth/sms/verify', { method: 'POST', body: { phone: person.phone, code: outbox.items[0].params.code } })
  const real = await json('/api/v1/me/realname', { method: 'POST', token: login.access_token, body: { name: person.name, id_number: person.id_number } })
  return { access: real.access_token, refresh: real.refresh_token || login.refresh_token }
}

// The current TOTP code (RFC 6238: SHA-1, 30 s, 6 digits) of a staff member's base32 secret.
export function totp(secret) {
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

// On the staff login page: the account ``s`` (world.staff[...]) with a fresh TOTP code, then 登录.
export async function staffSignIn(page, s) {
  await page.fill(input('staff-username'), s.username)
  await page.fill(input('staff-password'), s.password)
  await page.fill(input('staff-totp'), totp(s.totp_secret))
  await page.click(t('staff-login'))
}

export async function settled(page) {
  await page.waitForLoadState('networkidle')
  await page.locator(t('loading')).first().waitFor({ state: 'detached', timeout: 10000 }).catch(() => {})
  await page.waitForTimeout(250)
}

export async function axe(page, name) {
  // let transitions end first: a button fading in or a dialog opening is not what people read
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))))
  await page.evaluate(`${AXE}\n;0`)
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }))
  const bad = result.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  assert.deepEqual(text, [], `${name}: axe found ${bad.length} critical/serious violation(s)`)
}

// Nothing wider than the screen, the header's parts side by side without overlapping, and
// (适老化) every button and tappable row at least 48 px tall.
export async function layout(page, name, elder) {
  const problems = await page.evaluate((elder) => {
    const out = []
    const vw = document.documentElement.clientWidth
    if (document.documentElement.scrollWidth > vw + 1) out.push(`page is ${document.documentElement.scrollWidth}px wide at ${vw}px`)
    for (const el of document.querySelectorAll('main *')) {
      const r = el.getBoundingClientRect()
      if (r.width && r.right > vw + 1 && getComputedStyle(el).position !== 'fixed' && !el.closest('.van-tabs__nav, .van-swipe, [aria-hidden="true"], .sr-only, .van-popup')) {
        out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} reaches ${Math.round(r.right)}px`)
        break
      }
    }
    for (const bar of document.querySelectorAll('.van-nav-bar')) {
      const parts = [...bar.querySelectorAll('.van-nav-bar__left, .van-nav-bar__title, .van-nav-bar__right')]
        .map((p) => { const b = p.getBoundingClientRect(); const inner = p.firstElementChild?.getBoundingClientRect(); return { cls: p.className, b, w: p.scrollWidth > p.clientWidth + 1, inner } })
        .filter((p) => p.b.width > 0 && p.inner && p.inner.width > 0)
      for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
        const a = parts[i].inner; const b = parts[j].inner
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom && b.top < a.bottom) out.push(`header parts overlap: ${parts[i].cls} / ${parts[j].cls}`)
      }
    }
    if (elder) {
      for (const el of document.querySelectorAll('main .van-button, main .van-cell--clickable, main [role="button"]')) {
        const r = el.getBoundingClientRect()
        if (r.width && r.height && r.height < 47.5 && getComputedStyle(el).visibility !== 'hidden') {
          out.push(`touch target ${Math.round(r.height)}px: ${el.textContent.trim().slice(0, 20)}`)
        }
      }
    }
    return out
  }, elder)
  assert.deepEqual(problems.slice(0, 8), [], `${name}${elder ? ' (适老化)' : ''} at 360 px`)
}

// A screen as people get it: settled, no passing notice, the layout rules at its width (适老化 with
// ``elder``), axe unless ``elder``, one <main> and a heading.
export async function checked(page, name, { elder = false } = {}) {
  await settled(page)
  await page.locator('.van-toast').waitFor({ state: 'hidden' }).catch(() => {}) // a passing notice is not the screen
  await layout(page, name, elder)
  if (!elder) await axe(page, name)
  assert.equal(await page.locator('main').count(), 1, `${name}: one <main>`)
  assert.ok(await page.locator('h1').count() >= 1, `${name}: a heading`)
}
