// What a person reads when something goes wrong: one sentence that says what to do, never a
// raw code, a field path or "请求参数有误". Forms show field messages next to their fields.
// The sentences are in the reader's language (errors.* in locales/); a server's own ``detail``
// and field messages are shown as they come (in Chinese).
import { ApiError } from './api.js'
import { t } from './i18n.js'

// the codes with their own sentence (errors.<code> in locales/*.js)
const BY_CODE = new Set([
  'network',
  'offline',
  'unauthenticated',
  'token_expired',
  'token_invalid',
  'token_revoked',
  'refresh_token_invalid',
  'forbidden',
  'level_too_low',
  'not_found',
  'application_not_found',
  'certificate_not_found',
  'consent_not_found',
  'stale_version',
  'stale_state',
  'illegal_transition',
  'rate_limited',
  'payload_too_large',
  'upload_type_not_allowed',
  'upload_empty',
  'share_not_found',
  'share_expired',
  'agreement_required',
  'agreement_outdated',
  'supplement_once',
  'supplement_items_required',
  'reauth_required',
  'account_has_obligations',
  'service_unavailable',
  'internal_error',
  'slot_full',
  'location_denied',
  'not_allowed_for_proxy',
  'proxy_scope_missing',
  'authorization_revoked',
  'not_authorized_for_person',
  'grant_exists',
  'proxy_not_found',
  'proxy_not_verified',
  'proxy_self',
  'guardian_not_proven',
  'child_not_minor',
  'expiry_out_of_range',
  'payment_not_payable',
  'payment_busy',
])
const say = (code) => t(`errors.${code}`)

const GENERIC_TITLES = new Set(['请求参数有误', '请求无法处理', '操作与当前状态冲突', '请求失败', '未找到请求的资源'])

export function friendly(e) {
  if (!e) return ''
  if (!(e instanceof ApiError)) {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return say('offline')
    return say('page')
  }
  const code = e.code || ''
  if (code === 'network' && typeof navigator !== 'undefined' && navigator.onLine === false) return say('offline')
  if (BY_CODE.has(code)) {
    const wait = e.problem?.retry_after
    return code === 'rate_limited' && wait ? t('errors.rate_limited_wait', { n: wait }) : say(code)
  }
  if (code.endsWith('_unavailable') || e.status >= 500) return say('service_unavailable')
  if (code === 'validation_failed' || code === 'input_too_long' || code === 'form_invalid') {
    const msgs = [...new Set((e.problem?.errors || []).map((x) => x.message))]
    return msgs.length ? t('errors.fix', { list: msgs.join(t('common.semicolon')) }) : say('form')
  }
  if (code.endsWith('_not_found')) return say('not_found')
  const detail = e.problem?.detail
  if (detail && !GENERIC_TITLES.has(detail) && !/^请求(体|参数)/.test(detail)) return detail
  return GENERIC_TITLES.has(e.title) ? say('generic') : e.title
}

// Field messages from a problem, by the last segment of the field path ("body.form.amount" -> "amount").
export function fieldErrors(e) {
  return e instanceof ApiError ? { ...e.fields } : {}
}
