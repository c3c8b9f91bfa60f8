// The mini-program's words in 简体中文 or 繁體中文: the person's choice in 我的 → 语言, else the
// phone's language (WeChat's wx.getAppBaseInfo, or wx.getSystemInfoSync on older clients):
// zh_TW, zh_HK, zh_MO and zh-Hant read 繁體, everything else 简体. Pages take their words with
// strings('wallet') (the page's own and the shared ones, for the WXML) and t('wallet.whose',
// {name}) in code; the tab bar follows with tabBar().
const CATALOGS = { 'zh-CN': require('./locales/zh-CN'), 'zh-TW': require('./locales/zh-TW') }
const KEY = 'superapp.lang'
const TRADITIONAL = /^zh[-_](tw|hk|mo|hant)/i

function systemLanguage() {
  let language = ''
  try {
    const info = typeof wx.getAppBaseInfo === 'function' ? wx.getAppBaseInfo() : wx.getSystemInfoSync()
    language = (info && info.language) || ''
  } catch (e) { /* an older client without either: 简体 */ }
  return TRADITIONAL.test(language) ? 'zh-TW' : 'zh-CN'
}

// '' = follow the phone
function chosen() {
  const v = wx.getStorageSync(KEY)
  return CATALOGS[v] ? v : ''
}

function lang() { return chosen() || systemLanguage() }

function setLang(value) {
  if (CATALOGS[value]) wx.setStorageSync(KEY, value)
  else wx.removeStorageSync(KEY)
}

const catalog = () => CATALOGS[lang()]

function fill(text, vars) {
  return vars ? String(text).replace(/\{(\w+)\}/g, (m, k) => (vars[k] === undefined ? m : String(vars[k]))) : text
}

// t('wallet.whose', {name: '王**'}); a missing key comes back as itself (never blank)
function t(key, vars) {
  const value = key.split('.').reduce((o, k) => (o && o[k] !== undefined ? o[k] : undefined), catalog())
  return value === undefined ? key : fill(value, vars)
}

// the words a page's WXML uses: its own section, and the shared ones under their names
function strings(section) {
  const c = catalog()
  return { ...c[section], tab: c.tab, status: c.status, scopes: c.scopes, lang: c.lang, app: c.app }
}

// the tab bar's texts and the navigation bar's title in the language in use (called by the
// tab pages as they show: WeChat changes the tab bar only from one of them)
function tabBar() {
  catalog().tab.forEach((text, index) => {
    if (typeof wx.setTabBarItem === 'function') wx.setTabBarItem({ index, text, fail() {} })
  })
}

function title(text) {
  wx.setNavigationBarTitle({ title: text || catalog().app.title, fail() {} })
}

module.exports = { lang, chosen, setLang, systemLanguage, t, strings, tabBar, title }
