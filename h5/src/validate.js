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

export function nameProblem(v) {
  const s = String(v || '').trim()
  if (!s) return t('validate.nameEmpty')
  if (!/^[\u4e00-\u9fa5A-Za-z·•]{2,30}$/.test(s)) return t('validate.nameFormat')
  return ''
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
