// What a person reads when something goes wrong: one sentence that says what to do, never a
// raw code, a field path or "请求参数有误". Forms show field messages next to their fields.
import { ApiError } from './api.js'

const BY_CODE = {
  network: '网络连接失败，请检查网络后点“重试”',
  offline: '网络已断开，连上网络后会自动恢复',
  unauthenticated: '登录已过期，请重新登录',
  token_expired: '登录已过期，请重新登录',
  token_invalid: '登录已失效，请重新登录',
  token_revoked: '您已在别处退出登录，请重新登录',
  refresh_token_invalid: '登录已失效，请重新登录',
  forbidden: '您没有办理此项的权限',
  level_too_low: '请先完成实名认证再使用此功能',
  not_found: '没有找到相关内容，可能已删除或链接有误',
  application_not_found: '没有找到这件办件，可能已撤回或链接有误',
  certificate_not_found: '没有找到这张证照，可能已注销或链接有误',
  consent_not_found: '这条授权请求已失效',
  stale_version: '内容刚刚有更新，请刷新后再操作',
  stale_state: '内容刚刚有更新，请刷新后再操作',
  illegal_transition: '当前状态下不能进行这个操作，请刷新后查看最新状态',
  rate_limited: '操作太频繁了，请稍后再试',
  payload_too_large: '文件太大了，请换一个小一些的文件（不超过 10 MB）',
  upload_type_not_allowed: '只能上传 PDF、JPG 或 PNG 文件',
  upload_empty: '文件是空的，请重新选择',
  share_not_found: '核验码无效，请让持证人重新亮证后再扫',
  share_expired: '核验码已过期，请让持证人重新生成亮证二维码',
  agreement_required: '请先阅读并同意《用户协议》和《隐私政策》',
  agreement_outdated: '协议已更新，请阅读新版本后再同意',
  supplement_once: '已一次性告知过补正；再次要求补正须由科长办理',
  supplement_items_required: '请勾选需要补正的全部材料',
  reauth_required: '请先获取并填写验证码',
  account_has_obligations: '还有未了结的事项，暂时不能注销',
  service_unavailable: '服务暂时繁忙，请稍后点“重试”',
  internal_error: '系统出了点问题，请稍后点“重试”',
  slot_full: '这个时段已约满，请选择其他时段',
  location_denied: '没有拿到您的位置：请在浏览器设置中允许定位，或按区域查看',
}

const GENERIC_TITLES = new Set(['请求参数有误', '请求无法处理', '操作与当前状态冲突', '请求失败', '未找到请求的资源'])

export function friendly(e) {
  if (!e) return ''
  if (!(e instanceof ApiError)) {
    if (typeof navigator !== 'undefined' && navigator.onLine === false) return BY_CODE.offline
    return '页面出了点问题，请点“重试”'
  }
  const code = e.code || ''
  if (code === 'network' && typeof navigator !== 'undefined' && navigator.onLine === false) return BY_CODE.offline
  if (BY_CODE[code]) {
    const wait = e.problem?.retry_after
    return code === 'rate_limited' && wait ? `操作太频繁了，请 ${wait} 秒后再试` : BY_CODE[code]
  }
  if (code.endsWith('_unavailable') || e.status >= 500) return BY_CODE.service_unavailable
  if (code === 'validation_failed' || code === 'input_too_long' || code === 'form_invalid') {
    const msgs = [...new Set((e.problem?.errors || []).map((x) => x.message))]
    return msgs.length ? `请按提示修改：${msgs.join('；')}` : '填写的内容有误，请检查后再提交'
  }
  if (code.endsWith('_not_found')) return BY_CODE.not_found
  const detail = e.problem?.detail
  if (detail && !GENERIC_TITLES.has(detail) && !/^请求(体|参数)/.test(detail)) return detail
  return GENERIC_TITLES.has(e.title) ? '暂时办不了，请稍后重试或拨打 12345 咨询' : e.title
}

// Field messages from a problem, by the last segment of the field path ("body.form.amount" -> "amount").
export function fieldErrors(e) {
  return e instanceof ApiError ? { ...e.fields } : {}
}
