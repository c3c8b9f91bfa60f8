// Checks done before anything is sent, with the sentence shown next to the field (in the
// reader's language: validate.* in locales/).
import { t } from './i18n.js'

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
const ID_CHECK = '10X98765432'

export function idNumberProblem(v) {
  const s = String(v || '').trim().toUpperCase()
  if (!s) return t('validate.idEmpty')
  if (!/^\d{17}[\dX]$/.test(s)) return t('validate.idFormat')
  const sum = ID_WEIGHTS.reduce((acc, w, i) => acc + w * Number(s[i]), 0)
  if (ID_CHECK[sum % 11] !== s[17]) return t('validate.idCheck')
  return ''
}

// A name as the server takes it (identity/accounts/models.py): 2-30 Chinese characters or letters
// (with ·), or a foreign name of 2-60 Latin letters with spaces, hyphens and apostrophes.
const NAME = /^[\u3400-\u9fff\u00b7\u2022A-Za-z .·]{2,30}$/
const LATIN_NAME = /^[A-Za-zÀ-ÖØ-öø-ÿ][A-Za-zÀ-ÖØ-öø-ÿ .·'-]{1,59}$/
export function nameProblem(v, { latin = false } = {}) {
  const s = String(v || '').trim().split(/\s+/).join(' ')
  if (!s) return t('validate.nameEmpty')
  if (!NAME.test(s) && !LATIN_NAME.test(s)) return latin ? t('realname.check.latinName') : t('validate.nameFormat')
  return ''
}

// ---- Phone numbers by country or region (the login page) ----------------------------------
// What identity/phones.py accepts, checked roughly before sending: mainland numbers as 11
// digits (sent as they are), Hong Kong and Macao 8 digits, Taiwan 9 digits starting with 9
// (the 0 of 09… is dropped), elsewhere the whole number in E.164 (+, country code, 8-15 digits).
// The server checks the number fully (libphonenumber) and says so if it is not a mobile.
export const PHONE_REGIONS = [
  { id: 'CN', dial: '86', max: 13 },
  { id: 'HK', dial: '852', max: 9 },
  { id: 'MO', dial: '853', max: 9 },
  { id: 'TW', dial: '886', max: 11 },
  { id: 'other', dial: '', max: 20 },
]
const PHONE_RULES = { CN: /^1[3-9]\d{9}$/, HK: /^\d{8}$/, MO: /^\d{8}$/, TW: /^9\d{8}$/, other: /^\+[1-9]\d{7,14}$/ }
const PHONE_FORMAT = { CN: 'login.phoneFormat', HK: 'login.phoneFormatHK', MO: 'login.phoneFormatMO', TW: 'login.phoneFormatTW',
  other: 'login.phoneFormatOther' }

// The digits of the number as typed in ``region`` (spaces, hyphens, brackets and the region's
// own +code typed again are dropped; Taiwan's leading 0 too).
function localDigits(region, v) {
  let s = String(v || '').replace(/[\s\-()（）]/g, '')
  if (region === 'other') return s.replace(/^00/, '+')
  const dial = PHONE_REGIONS.find((r) => r.id === region)?.dial
  if (dial && s.startsWith(`+${dial}`)) s = s.slice(dial.length + 1)
  if (region === 'TW' && /^09\d{8}$/.test(s)) s = s.slice(1)
  return s
}

/** '' when the number fits its region, else a sentence for the person. */
export function phoneProblem(region, v) {
  const s = localDigits(region, v)
  if (!s) return t('login.phoneEmpty')
  if (PHONE_RULES[region]?.test(s)) return ''
  if (region === 'CN' && s.startsWith('+')) return t('login.phoneChooseRegion')
  return t(PHONE_FORMAT[region] || 'login.phoneFormatOther')
}

/** The number to send: 11 digits for the mainland, E.164 elsewhere. */
export function phoneToSend(region, v) {
  const s = localDigits(region, v)
  if (region === 'CN' || region === 'other') return s
  return `+${PHONE_REGIONS.find((r) => r.id === region).dial}${s}`
}

// ---- Identity documents (real name) --------------------------------------------------------
// The six document types of identity/documents.py, checked by format before sending; the
// 18-character cards keep the check-character test of the resident ID.
export const ID_TYPES = ['resident_id', 'hk_macao_permit', 'taiwan_permit', 'residence_permit_hmt', 'foreign_permanent_id', 'passport']
// nationalities a foreign passport cannot carry here: Chinese citizens and people of Hong Kong,
// Macao and Taiwan use their own documents
const NOT_FOREIGN = { CHN: 'CHN', HKG: 'HMT', MAC: 'HMT', TWN: 'TWN' }

export const normalizeDocument = (v) => String(v || '').replace(/\s+/g, '').toUpperCase()

/** '' when ``v`` looks like a number of document ``idType``, else what to do. */
export function documentProblem(idType, v) {
  const s = normalizeDocument(v)
  if (!s) return t('validate.idEmpty')
  switch (idType) {
    case 'hk_macao_permit':
      return /^[HM](\d{8}|\d{10})$/.test(s) ? '' : t('realname.check.hkMacao')
    case 'taiwan_permit':
      return /^(\d{8}|\d{10})$/.test(s) ? '' : t('realname.check.taiwan')
    case 'residence_permit_hmt':
      if (/^\d{17}[\dX]$/.test(s) && !/^8[123]0000/.test(s)) return t('realname.check.residencePermit')
      return idNumberProblem(s)
    case 'foreign_permanent_id':
      if (/^\d{17}[\dX]$/.test(s) && !s.startsWith('9')) return t('realname.check.permanentId')
      return idNumberProblem(s)
    case 'passport':
      return /^[A-Z0-9]{5,20}$/.test(s) ? '' : t('realname.check.passport')
    default:
      return idNumberProblem(s)
  }
}

/** A passport's nationality: an ISO 3166 alpha-3 code, not China's own. */
export function nationalityProblem(v) {
  const s = String(v || '').trim().toUpperCase()
  if (!s) return t('realname.check.nationalityEmpty')
  if (!/^[A-Z]{3}$/.test(s)) return t('realname.check.nationality')
  if (NOT_FOREIGN[s]) return t(`realname.check.notForeign${NOT_FOREIGN[s]}`)
  return ''
}

/** The Chinese visa or residence permit number that goes with a passport. */
export function visaProblem(v) {
  const s = normalizeDocument(v)
  if (!s) return t('realname.check.visaEmpty')
  return /^[A-Z0-9]{5,20}$/.test(s) ? '' : t('realname.check.visa')
}

export const isDateField = (key, p) => p.format === 'date' || /(_date|_on|_since|date|since)$/.test(key)
  || /日期|时间起/.test(p['x-title-zh'] || p.title || '') // the catalog's own (Chinese) title

// A JSON-Schema property's value: '' when fine, else what to do.
export function fieldProblem(p, v, required, isDate = false) {
  const empty = v === undefined || v === null || v === ''
  if (empty) return required ? t('validate.required', { name: p.title || t('validate.thisField') }) : ''
  if (p.type === 'number' || p.type === 'integer') {
    if (typeof v !== 'number' || Number.isNaN(v)) return t('validate.number')
    if (p.type === 'integer' && !Number.isInteger(v)) return t('validate.integer')
    if (p.minimum !== undefined && v < p.minimum) return t('validate.min', { n: p.minimum })
    if (p.maximum !== undefined && v > p.maximum) return t('validate.max', { n: p.maximum })
    return ''
  }
  const s = String(v)
  if (p.minLength && s.length < p.minLength) return t('validate.minLength', { n: p.minLength })
  if (p.maxLength && s.length > p.maxLength) return t('validate.maxLength', { n: p.maxLength })
  if (p.enum && !p.enum.includes(v)) return t('validate.enum')
  if (isDate && !/^\d{4}-\d{2}-\d{2}$/.test(s)) return t('validate.date')
  if (p.pattern && !new RegExp(p.pattern).test(s)) return t('validate.pattern', { name: p.title || t('validate.thisField') })
  return ''
}
