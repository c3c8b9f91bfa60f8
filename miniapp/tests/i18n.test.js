// 繁體中文: a phone whose WeChat language is zh_TW (or zh_HK) gets the main package in
// Traditional characters — the tab bar, the navigation title, the home page with the person
// code, the wallet, 办事, 我的, the login and real-name pages, and the client's own sentences
// (a network failure) — against the real backend; 我的 → 语言 switches to 简体中文 and back
// to following the phone. What the server sends (matter names, its sentences) is as it is.
const fs = require('fs')
const { wx, store, calls, dropResponses } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const i18n = require('../miniprogram/utils/i18n')
const CN = require('../miniprogram/utils/locales/zh-CN')
const TW = require('../miniprogram/utils/locales/zh-TW')

const since = (n) => calls.slice(n)
const tabs = (n) => since(n).filter((c) => c[0] === 'setTabBarItem').map((c) => `${c[1]}:${c[2]}`)
const titles = (n) => since(n).filter((c) => c[0] === 'setNavigationBarTitle').map((c) => c[1])
// characters the Simplified catalog has where the Traditional one has another: none of them
// may be left in a page that shows only the app's own words
const SIMPLIFIED = new Set()
;(function walk(a, b) {
  if (typeof a === 'string') { [...a].forEach((ch, i) => { if ([...b][i] !== ch) SIMPLIFIED.add(ch) }); return }
  for (const k of Object.keys(a)) if (k !== 'lang') walk(a[k], b[k])
}(CN, TW))

async function open(name) {
  const page = renderPage(name)
  await page.instance.ready
  return page
}

afterEach(detachAll)

beforeAll(() => {
  store.set('superapp.access', world.i18n.access_token)
  store.set('superapp.refresh', world.i18n.refresh_token)
  wx.systemLanguage = 'zh_TW'
})

test('both catalogs have the same words, and the phone language chooses: zh_TW and zh_HK 繁體, others 简体', () => {
  const keys = (o, p = '') => Object.entries(o).flatMap(([k, v]) => (v && typeof v === 'object' && !Array.isArray(v) ? keys(v, `${p}${k}.`) : [`${p}${k}`]))
  expect(keys(TW)).toEqual(keys(CN))
  expect(TW.tab).toHaveLength(CN.tab.length)
  expect(SIMPLIFIED.size).toBeGreaterThan(50)
  for (const [language, expected] of [['zh_TW', 'zh-TW'], ['zh_HK', 'zh-TW'], ['zh_MO', 'zh-TW'], ['zh_CN', 'zh-CN'], ['en', 'zh-CN'], ['', 'zh-CN']]) {
    wx.systemLanguage = language
    expect(`${language}: ${i18n.lang()}`).toBe(`${language}: ${expected}`)
  }
  wx.systemLanguage = 'zh_TW'
  expect(i18n.t('wallet.whose', { name: '王**' })).toBe('王** 的證照')
  expect(i18n.t('no.such.key')).toBe('no.such.key')
})

test('on a zh_TW phone the tab bar and the main pages are in 繁體', async () => {
  const n = calls.length
  const home = await open('index')
  await until(() => home.data.code, 'the person code')
  expect(tabs(n)).toEqual(['0:服務碼', '1:卡包', '2:辦事', '3:我的'])
  expect(titles(n)).toContain('政務超級應用')
  expect(text(home)).toContain('服務碼 60 秒自動更新，請勿截圖轉發。')
  expect(text(home)).toContain(`${world.i18n.name[0]}** 的服務碼`)
  expect(text(home)).toMatch(/短碼 ?\d{8}/)
  expect(text(home)).toMatch(/\d+ 秒後自動刷新 · 出示給窗口或自助終端掃描/)
  home.detach()

  const wallet = await open('wallet')
  expect(text(wallet)).toContain('我的電子證照')
  expect(text(wallet)).toContain('居民身份证') // the certificate's name is the issuer's
  expect(text(wallet)).toContain('有效')
  wallet.detach()

  const matters = await open('matters')
  for (const words of ['我的辦件', '到大廳辦事', '辦事大廳', '12345 政務服務便民熱線', '我要反映', '一件事一次辦']) expect(text(matters)).toContain(words)
  expect(matters.data.t.search).toBe('搜索事項，如 公積金、居住證')
  matters.detach()

  const mine = await open('mine')
  for (const words of ['適老化（大字）模式', '已實名認證', '我的記錄', '我的辦件', '家人與企業', '親友代辦', '賬戶與安全', '註銷賬號', '退出登錄',
    '語言 · 语言 跟隨系統']) expect(text(mine)).toContain(words)
  mine.detach()

  const login = await open('login')
  for (const words of ['政務超級應用', '我已閱讀並同意', '微信一鍵登錄', '一個身份辦遍政務服務']) expect(text(login)).toContain(words)
  login.detach()

  const realname = await open('realname')
  for (const words of ['實名認證（L2）', '姓名=', '證件號碼=', '提交認證', '證件號碼加密保存']) expect(text(realname)).toContain(words)
  expect([...text(realname)].filter((ch) => SIMPLIFIED.has(ch))).toEqual([]) // nothing left in 简体
  realname.detach()
  expect(since(n).filter((c) => c[0] === 'showToast')).toEqual([])
})

test('the client\'s own sentences follow: a page that cannot load says so in 繁體, with 重試', async () => {
  dropResponses(2) // the wallet page's two requests lose their answers
  const wallet = await open('wallet')
  expect(wallet.data.error).toBe('網絡連接失敗，請檢查網絡後重試')
  expect(text(wallet)).toMatch(/網絡連接失敗，請檢查網絡後重試\s*重試/) // the message, then its button
  await wallet.instance.load()
  expect(text(wallet)).toContain('我的電子證照')
})

test('我的 → 语言: 简体中文 whatever the phone says, then back to following the phone', async () => {
  const mine = await open('mine')
  let n = calls.length
  mine.instance.useLang('zh-CN')
  expect(store.get('superapp.lang')).toBe('zh-CN')
  expect(text(mine)).toContain('适老化（大字）模式')
  expect(text(mine)).toContain('语言 · 語言 简体中文')
  expect(text(mine)).toContain('已实名认证')
  expect(tabs(n)).toEqual(['0:服务码', '1:卡包', '2:办事', '3:我的'])
  mine.detach()
  const wallet = await open('wallet')
  expect(text(wallet)).toContain('我的电子证照')
  wallet.detach()

  const again = await open('mine')
  n = calls.length
  again.instance.pickLang() // the action sheet: 跟随系统 (the first choice)
  expect(store.has('superapp.lang')).toBe(false)
  expect(text(again)).toContain('語言 · 语言 跟隨系統')
  expect(tabs(n)).toEqual(['0:服務碼', '1:卡包', '2:辦事', '3:我的'])
  again.instance.useLang('zh-TW') // chosen outright
  expect(store.get('superapp.lang')).toBe('zh-TW')
  wx.systemLanguage = 'zh_CN'
  expect(i18n.lang()).toBe('zh-TW')
  again.detach()
})
