// The H5 in 简体中文, 繁體中文 and English (issue 21): the browser's language decides the first
// choice, a choice made in 我的 is kept across reloads, the kiosk's visitor language goes back
// by itself, catalog texts without a translation are shown in Simplified Chinese and say so,
// staff screens stay Simplified Chinese; and every resident screen stays axe-clean and fits a
// 360 px screen in English and 繁體 (longer words). Started by tests/superapp/test_e2e_h5.py.
//
// The other browser files run in zh-CN (their contexts say so) and select some elements by
// their Chinese text: the default language for a zh-CN browser must stay Simplified Chinese.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { BASE, axe, launch, layout, mobilePage, residentSession, settled, t, world } from './checks.mjs'
import zhCN from '../src/locales/zh-CN.js'
import zhTW from '../src/locales/zh-TW.js'
import en from '../src/locales/en.js'

const RESIDENCE = '440100-GA-0012' // translated in config/catalog/matters.i18n.json
const UNTRANSLATED = '440100-SJ-0101' // 个体工商户设立登记: no translation (yet)
// common characters that exist only in simplified writing (这 → 這, 们 → 們 …)
const SIMPLIFIED_ONLY = /[这们说时会个来为对过还请让点证办码项网络确认应务实载设资讯单质机关门户档页选择发开线现间问题样续码输号钟态审补结预约厅终请证据录]/
let browser
let tokens

before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

// The screens' resident (world.viewer): signed in through the API. Nothing here changes what the
// other files expect of them (no application, no booking; 实名 again gives the same answer).
before(async () => { tokens = await residentSession(world.viewer) })

// A phone whose browser speaks ``locale``; signed in unless ``signedIn`` is false.
function phone(locale, { signedIn = true, elder = false, width = 360 } = {}) {
  return mobilePage(browser, { resident: signedIn ? tokens : null, elder, locale, width })
}
const htmlLang = (page) => page.evaluate(() => document.documentElement.lang)
const text = async (page, selector) => (await page.locator(selector).first().innerText()).trim()

test('every language has every message of the Simplified Chinese catalog, and nothing else', () => {
  const flat = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' ? flat(v, `${p}${k}.`) : [`${p}${k}`]))
  const source = flat(zhCN).sort()
  for (const [name, catalog] of [['zh-TW', zhTW], ['en', en]]) {
    assert.deepEqual(flat(catalog).sort(), source, `${name} has the same keys as zh-CN`)
    // 繁體 is written in traditional characters: none of the commonest simplified-only ones
    if (name === 'zh-TW') {
      const strings = flat(catalog).map((k) => [k, k.split('.').reduce((o, p) => o[p], catalog)])
      const simplified = strings.filter(([, v]) => SIMPLIFIED_ONLY.test(v)).map(([k, v]) => `${k}: ${v}`)
      assert.deepEqual(simplified, [], 'zh-TW messages in simplified characters')
    }
  }
})

test('the catalog\'s 繁體 translations are in traditional characters', () => {
  const file = JSON.parse(readFileSync(new URL('../../config/catalog/matters.i18n.json', import.meta.url), 'utf8'))
  const bad = Object.entries(file).filter(([code]) => !code.startsWith('_'))
    // the texts only: keys (options are keyed by the catalog's own Simplified values) are left out
    .flatMap(([code, tr]) => (SIMPLIFIED_ONLY.test(JSON.stringify(tr['zh-TW'] || {}).replace(/"[^"]*":/g, '')) ? [code] : []))
  assert.deepEqual(bad, [])
})

test('a browser in 繁體中文 gets 繁體 on the login page, the home page and the matters', async () => {
  const out = await phone('zh-TW', { signedIn: false })
  await out.goto('/login')
  await out.locator(t('agreement-user')).waitFor()
  await settled(out)
  assert.equal(await htmlLang(out), 'zh-Hant')
  assert.equal(await text(out, 'h1'), '登入政務超級應用')
  assert.equal(await text(out, t('login')), '登入')
  assert.equal(await out.title(), '政務超級應用')
  assert.equal(await out.locator(`${t('lang-zh-TW')}[aria-pressed="true"]`).count(), 1)
  await layout(out, '登入（繁體）', false)
  await axe(out, '登入（繁體）')
  await out.context().close()

  const page = await phone('zh-TW')
  await page.goto('/')
  await page.locator(t('person-code')).waitFor()
  assert.match(await text(page, t('tabbar')), /服務碼[\s\S]*卡包[\s\S]*辦事[\s\S]*我的/)
  assert.match(await page.locator('.code').innerText(), /秒後自動更新/)
  await page.click(t('tabbar') + ' >> text=辦事')
  await page.locator(t(`matter-${RESIDENCE}`)).waitFor()
  assert.equal(await text(page, 'h1'), '辦事服務')
  assert.match(await text(page, t(`matter-${RESIDENCE}`)), /居住證申領/)
  assert.equal(await page.locator(`${t(`matter-${RESIDENCE}`)} ${t('zh-only')}`).count(), 0)
  await page.goto(`/matters/${RESIDENCE}`)
  await page.locator(t('guide')).waitFor()
  assert.match(await page.locator('main').innerText(), /申請條件[\s\S]*具備合法穩定就業/)
  assert.equal(await page.locator(t('guide-zh-only')).count(), 0)
  assert.deepEqual(page.errors, [])
  await page.context().close()
})

test('a browser in English gets English, with the catalog\'s translations', async () => {
  const out = await phone('en-US', { signedIn: false })
  await out.goto('/login')
  await out.locator(t('agreement-user')).waitFor()
  assert.equal(await htmlLang(out), 'en')
  assert.equal(await text(out, 'h1'), 'Sign in')
  assert.equal(await text(out, t('agreement-privacy')), 'the Privacy Policy')
  await out.fill(`${t('phone')} input`, '12')
  await out.click(t('login'))
  assert.match(await text(out, t('phone')), /A mobile number has 11 digits/) // client-side checks speak English too
  await out.context().close()

  const page = await phone('en-US')
  await page.goto('/matters')
  await page.locator(t(`matter-${RESIDENCE}`)).waitFor()
  assert.equal(await text(page, 'h1'), 'Services')
  assert.match(await text(page, t(`matter-${RESIDENCE}`)), /Residence permit application[\s\S]*Guangzhou Public Security Bureau/)
  // the server searches Chinese; a translated name is found as well
  await page.fill(`${t('matter-search')} input`, 'residence')
  await page.press(`${t('matter-search')} input`, 'Enter')
  await page.locator(t(`matter-${RESIDENCE}`)).waitFor()
  assert.equal(await page.locator(t(`matter-${UNTRANSLATED}`)).count(), 0)

  await page.goto(`/matters/${RESIDENCE}/apply`)
  await page.locator(t('submit')).waitFor()
  assert.equal(await text(page, 'h1'), 'Residence permit application')
  assert.match(await text(page, t('field-reason')), /Reason for living here[\s\S]*Work[\s\S]*Study/)
  assert.match(await page.locator('main').innerText(), /Resident ID card[\s\S]*From wallet/)
  await page.click(t('submit')) // nothing uploaded: told in English, nothing sent
  assert.match(await text(page, t('materials-missing')), /^Still missing: Proof of a stable legal home/)
  assert.deepEqual(page.errors, [])
  await page.context().close()
})

test('a matter with no translation shows its Simplified Chinese, visibly marked', async () => {
  for (const [locale, mark] of [['en-US', 'Chinese only'], ['zh-HK', '僅簡體']]) {
    const page = await phone(locale)
    await page.goto('/matters')
    const row = page.locator(t(`matter-${UNTRANSLATED}`))
    await row.waitFor()
    assert.equal(await text(page, `${t(`matter-${UNTRANSLATED}`)} ${t('zh-only')}`), mark)
    assert.equal(await row.locator('[lang="zh-CN"]').first().innerText(), '个体工商户设立登记')
    await page.goto(`/matters/${UNTRANSLATED}`)
    await page.locator(t('guide')).waitFor()
    await page.locator(t('guide-zh-only')).waitFor()
    assert.equal(await page.locator('h1[lang="zh-CN"]').innerText(), '个体工商户设立登记')
    await axe(page, `办事指南（${locale}，无译文）`)
    await page.context().close()
  }
  // and in Simplified Chinese nothing is marked
  const zh = await phone('zh-CN')
  await zh.goto('/matters')
  await zh.locator(t(`matter-${UNTRANSLATED}`)).waitFor()
  assert.equal(await zh.locator(t('zh-only')).count(), 0)
  await zh.context().close()
})

test('switching the language in 我的 changes it at once and keeps it after a reload', async () => {
  const page = await phone('zh-CN')
  await page.goto('/mine')
  await page.locator(t('me')).waitFor()
  assert.equal(await htmlLang(page), 'zh-CN')
  assert.equal(await text(page, 'h1'), '我的')
  await page.click(t('lang-en'))
  await page.waitForFunction(() => document.documentElement.lang === 'en')
  assert.equal(await text(page, 'h1'), 'Me')
  assert.match(await text(page, t('tabbar')), /My code[\s\S]*Wallet[\s\S]*Services[\s\S]*Me/)
  assert.match(await text(page, t('logout')), /Sign out/)
  assert.equal(await page.evaluate(() => localStorage.getItem('locale')), 'en')
  await layout(page, '我的（English）', false)
  await axe(page, '我的（English）')

  await page.reload()
  await page.locator(t('me')).waitFor()
  assert.equal(await htmlLang(page), 'en')
  assert.equal(await text(page, 'h1'), 'Me')
  await page.goto('/wallet')
  assert.equal(await text(page, 'h1'), 'E-certificate wallet')

  // staff screens stay Simplified Chinese (mainland staff), without changing the choice
  await page.goto('/staff/login')
  await page.locator('h1').first().waitFor()
  assert.equal(await htmlLang(page), 'zh-CN')
  assert.match(await page.locator('main').innerText(), /[\u4e00-\u9fff]/)
  await page.goto('/mine')
  await page.locator(t('me')).waitFor()
  assert.equal(await htmlLang(page), 'en')

  await page.click(t('lang-zh-TW'))
  await page.waitForFunction(() => document.documentElement.lang === 'zh-Hant')
  assert.equal(await text(page, 'h1'), '我的')
  assert.match(await text(page, t('logout')), /登出/)
  await page.click(t('lang-zh-CN'))
  await page.waitForFunction(() => document.documentElement.lang === 'zh-CN')
  assert.match(await text(page, t('logout')), /退出登录/)
  assert.equal(await page.evaluate(() => localStorage.getItem('locale')), 'zh-CN')
  assert.deepEqual(page.errors, [])
  await page.context().close()
})

test('the kiosk: a visitor switches the language on the idle screen; it goes back when they leave', async () => {
  const ctx = await browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 860 }, locale: 'zh-CN' })
  ctx.setDefaultTimeout(15000)
  const kiosk = await ctx.newPage()
  await kiosk.goto('/kiosk')
  await kiosk.locator(t('device-id')).waitFor()
  const config = { device_id: world.device.id, private_key_pem: world.device.private_key_pem, idle_seconds: 10 }
  await kiosk.setInputFiles(t('device-config'), { name: 'kiosk.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) })
  await kiosk.locator(`${t('kiosk')}[data-state="idle"]`).waitFor()
  assert.equal(await text(kiosk, 'h2.prompt'), '请出示服务码')
  await kiosk.click(t('lang-en'))
  await kiosk.waitForFunction(() => document.documentElement.lang === 'en')
  assert.equal(await text(kiosk, 'h2.prompt'), 'Show your service code')
  assert.equal(await text(kiosk, t('key-确定')), 'OK')
  await axe(kiosk, '自助终端（English）')
  await kiosk.click(t('lang-zh-TW'))
  await kiosk.waitForFunction(() => document.documentElement.lang === 'zh-Hant')
  assert.equal(await text(kiosk, 'h2.prompt'), '請出示服務碼')
  assert.equal(await kiosk.evaluate(() => localStorage.getItem('locale')), null, 'a shared machine keeps no visitor\'s choice')
  // nobody touches it: back to the kiosk's own language for the next visitor
  await kiosk.waitForFunction(() => document.documentElement.lang === 'zh-CN', null, { timeout: 20000 })
  assert.equal(await text(kiosk, 'h2.prompt'), '请出示服务码')
  await ctx.close()
})

// The resident screens (as in screens.test.mjs) in English and 繁體, at 360 px, normal and 适老化.
const SCREENS = [
  ['home', '/', t('person-code')],
  ['wallet', '/wallet', '[data-test^="cert-"]'],
  ['certificate', () => `/wallet/${world.viewer.certificate_id}`, t('cert-detail')],
  ['matters', '/matters', t(`matter-${RESIDENCE}`)],
  ['guide', `/matters/${RESIDENCE}`, t('guide')],
  ['guide with situations', '/matters/440100-MZ-0005', t('situations')],
  ['apply', `/matters/${RESIDENCE}/apply`, t('submit')],
  ['applications', '/applications', t('empty-state')],
  ['mine', '/mine', t('me')],
  ['realname', '/realname', t('verify')],
  ['close account', '/mine/close', `${t('close-account')}, ${t('obligations')}`],
  ['tickets', '/tickets', `${t('empty-state')}, ${t('new-ticket')}`],
  ['new ticket', '/tickets/new', t('ticket-submit')],
  ['halls', '/halls', t('hall-gz-hall-tianhe')],
  ['hall', `/halls/gz-hall-tianhe?matter=${RESIDENCE}`, '[data-test^="slot-"]'],
  ['appointments', '/halls/appointments', t('empty-state')],
  ['not found', '/no-such-page', '.van-empty'],
  ['business', '/portal', 'main'],
  ['kiosk set-up', '/kiosk', t('device-id')],
]

for (const locale of ['en-US', 'zh-TW']) {
  for (const elder of [false, true]) {
    test(`${locale}${elder ? ', 适老化' : ''}: every resident screen fits 360 px${elder ? ' with large targets' : ', axe clean'}`, async () => {
      const page = await phone(locale, { elder })
      for (const [name, path, ready] of SCREENS) {
        await page.goto(typeof path === 'function' ? path() : path)
        await page.locator(ready).first().waitFor().catch(async (e) => {
          throw new Error(`${name}: ${e.message.split('\n')[0]}; the screen shows: ${(await page.locator('body').innerText()).slice(0, 300)}`)
        })
        await settled(page)
        assert.equal(await htmlLang(page), locale === 'en-US' ? 'en' : 'zh-Hant', name)
        await layout(page, `${name} (${locale})`, elder)
        if (!elder) await axe(page, `${name} (${locale})`)
      }
      assert.deepEqual(page.errors, [])
      await page.context().close()
    })
  }
}
