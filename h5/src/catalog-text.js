// Catalog texts (a matter's name, guide, materials, form titles) in the reader's language
// when the catalog carries a translation (``i18n`` on the matter, from
// config/catalog/matters.i18n.json), otherwise the Simplified Chinese text, marked as such
// (<ZhOnly>: "简体" shown next to it, and lang="zh-CN" on the text for screen readers).
import { api } from './api.js'

const empty = (v) => v === undefined || v === null || v === '' || (Array.isArray(v) && !v.length)

/**
 * A matter's texts in ``locale``: ``{ name, department_name, fees, legal_basis, conditions,
 * material(id, zh), field(key, zh), option(value), situation(s) }`` and ``zh``, the set of
 * keys shown in Simplified Chinese because no translation was found. ``none`` is true when the
 * matter has no translation at all in that language.
 */
export function localMatter(m, locale) {
  const tr = (locale !== 'zh-CN' && m?.i18n?.[locale]) || {}
  const zh = new Set()
  const pick = (key, zhText, text) => {
    if (locale === 'zh-CN' || empty(zhText)) return zhText
    if (empty(text)) { zh.add(key); return zhText }
    return text
  }
  return {
    zh,
    none: locale !== 'zh-CN' && !m?.i18n?.[locale],
    name: pick('name', m?.name, tr.name),
    department_name: pick('department_name', m?.department_name, tr.department_name),
    fees: pick('fees', m?.fees, tr.fees),
    legal_basis: pick('legal_basis', m?.legal_basis, tr.legal_basis),
    conditions: pick('conditions', m?.conditions, tr.conditions),
    material: (id, zhName) => pick(`material:${id}`, zhName, tr.materials?.[id]),
    field: (key, zhTitle) => pick(`field:${key}`, zhTitle, tr.fields?.[key]),
    option: (value) => (locale === 'zh-CN' ? value : tr.options?.[value] ?? value),
    situation: (s) => ({ ...s, name: pick(`situation:${s.id}`, s.name, tr.situations?.[s.id]?.name),
      description: pick(`situation:${s.id}:description`, s.description, tr.situations?.[s.id]?.description) }),
  }
}

/** A JSON-Schema form with its titles (and enum labels, as ``x-labels``) in the reader's language. */
export function localSchema(schema, lm) {
  const properties = Object.fromEntries(Object.entries(schema.properties || {}).map(([k, p]) => {
    const title = lm.field(k, p.title)
    const labels = p.enum ? Object.fromEntries(p.enum.map((v) => [v, lm.option(v)])) : undefined
    return [k, { ...p, title, 'x-title-zh': p.title, ...(labels ? { 'x-labels': labels } : {}), ...(lm.zh.has(`field:${k}`) ? { 'x-zh': true } : {}) }]
  }))
  return { ...schema, properties }
}

// The list (GET /api/v1/matters) carries names only in Simplified Chinese; a guide carries the
// translations. For a reader in another language, the guides of the listed matters are read
// once per page load (a handful of cached GETs) to name them; the list's own ``i18n`` is used
// instead whenever the server adds it.
const guides = new Map()
export function guideOf(code) {
  if (!guides.has(code)) guides.set(code, api(`/api/v1/matters/${encodeURIComponent(code)}`).catch((e) => { guides.delete(code); throw e }))
  return guides.get(code)
}
export async function withTranslations(items, locale) {
  if (locale === 'zh-CN') return items
  return Promise.all(items.map(async (m) => {
    if (m.i18n !== undefined) return m
    const g = await guideOf(m.code).catch(() => null)
    return { ...m, i18n: g?.i18n || null }
  }))
}

/** The translated name of a matter known only by its code and Chinese name (applications, halls). */
export async function matterName(code, zhName, locale) {
  if (locale === 'zh-CN' || !code) return { text: zhName, zh: false }
  const g = await guideOf(code).catch(() => null)
  const text = g?.i18n?.[locale]?.name
  return text ? { text, zh: false } : { text: zhName, zh: true }
}

/** Rows naming a matter (``matter`` code, ``matter_name``), with the name in the reader's language. */
export async function localNames(rows, locale) {
  if (locale === 'zh-CN') return rows
  return Promise.all(rows.map(async (r) => {
    const n = await matterName(r.matter, r.matter_name, locale)
    return { ...r, matter_name: n.text, zh: n.zh }
  }))
}
