// The H5 in 简体中文 (the source), 繁體中文 (Hong Kong / Taiwan usage) and English.
// The first choice comes from the browser's languages; a choice the person makes is kept in
// localStorage. 繁體 and English are loaded when first needed (one small chunk each, with
// Vant's own texts), so a Simplified-Chinese reader downloads nothing more.
//
// Staff screens and the hall's call display are Simplified Chinese only (they are for
// mainland staff): the router shows them in zh-CN whatever the person chose, without
// changing that choice. The kiosk starts in the browser's language for every visitor and
// goes back to it when it resets (a visitor's choice is not stored on a shared machine).
import { createI18n } from 'vue-i18n'
import { Locale } from 'vant'
import zhCN from './locales/zh-CN.js'

export const LOCALES = [
  { code: 'zh-CN', name: '简体中文', html: 'zh-CN' },
  { code: 'zh-TW', name: '繁體中文', html: 'zh-Hant' },
  { code: 'en', name: 'English', html: 'en' },
]
const CODES = LOCALES.map((l) => l.code)
const STORE = 'locale'

// Loaders for the non-default languages: the app's messages and Vant's own (date picker,
// dialogs' 确认 / 取消 …).
const LOADERS = {
  'zh-TW': () => Promise.all([import('./locales/zh-TW.js'), import('vant/es/locale/lang/zh-TW.mjs')]),
  en: () => Promise.all([import('./locales/en.js'), import('vant/es/locale/lang/en-US.mjs')]),
}
const VANT = { 'zh-CN': 'zh-CN', 'zh-TW': 'zh-TW', en: 'en-US' }
const vantMessages = {}

export const i18n = createI18n({
  legacy: false,
  globalInjection: true,
  locale: 'zh-CN',
  fallbackLocale: 'zh-CN',
  messages: { 'zh-CN': zhCN },
  missingWarn: false,
  fallbackWarn: false,
})

/** The app's language for a browser's list of languages (``navigator.languages``). */
export function pickLocale(languages) {
  for (const raw of languages || []) {
    const l = String(raw).toLowerCase()
    if (/^zh-(hk|tw|mo|hant)\b/.test(l)) return 'zh-TW'
    if (/^zh\b/.test(l)) return 'zh-CN'
    if (/^en\b/.test(l)) return 'en'
  }
  return 'zh-CN'
}

const browserLanguages = () => (typeof navigator === 'undefined' ? [] : navigator.languages?.length ? navigator.languages : [navigator.language])
export const browserLocale = () => pickLocale(browserLanguages())

/** What the person chose (stored), else what their browser asks for. */
export function preferredLocale() {
  let stored = null
  try { stored = localStorage.getItem(STORE) } catch { /* storage refused: use the browser's */ }
  return CODES.includes(stored) ? stored : browserLocale()
}

async function load(code) {
  if (code === 'zh-CN' || i18n.global.availableLocales.includes(code)) return
  const [messages, vant] = await LOADERS[code]()
  i18n.global.setLocaleMessage(code, messages.default)
  vantMessages[code] = vant.default
}

/** Show the app in ``code`` (loading its texts first); ``persist`` keeps it as the person's choice. */
export async function useLocale(code, { persist = false } = {}) {
  if (!CODES.includes(code)) code = 'zh-CN'
  try { await load(code) } catch { code = 'zh-CN' } // its chunk could not load (offline): stay readable
  if (persist) {
    try { localStorage.setItem(STORE, code) } catch { /* private mode: for this page only */ }
  }
  i18n.global.locale.value = code
  Locale.use(VANT[code], vantMessages[code])
  const meta = LOCALES.find((l) => l.code === code)
  document.documentElement.lang = meta.html
  document.title = i18n.global.t('app.title')
  window.dispatchEvent(new CustomEvent('locale-changed', { detail: code }))
  return code
}

export const currentLocale = () => i18n.global.locale.value
export const t = (...args) => i18n.global.t(...args)

// The language a route is shown in: Simplified Chinese for staff screens, the kiosk's
// visitor language on the kiosk, else the person's choice.
let kioskLocale = null
export function setKioskLocale(code) { kioskLocale = code; return useLocale(code) }
export function resetKioskLocale() { kioskLocale = null; return useLocale(browserLocale()) }
export function routeLocale(route) {
  if (route.meta.zhOnly) return 'zh-CN'
  if (route.meta.kiosk) return kioskLocale || browserLocale()
  return preferredLocale()
}
