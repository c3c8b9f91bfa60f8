const i18n = require('./i18n')

const STATE_NAMES = {
  draft: '草稿', submitted: '已提交', accepted: '已受理', not_accepted: '不予受理', in_review: '审查中',
  supplement_requested: '待补正', resubmitted: '已补正', approved: '已批准', denied: '不予批准', completed: '已办结', withdrawn: '已撤回',
}
// what a family member may do for a person (亲友代办), in words
const PROXY_SCOPES = { matters: '办事', certificates: '证照（查看与使用）', appointments: '预约与取号', tickets: '12345 诉求' }
// the scopes of a grant in words, in that order whatever order they come in
// (names: the server's words for them, else the app's in the language in use)
function scopeWords(scopes, names = []) {
  const order = Object.keys(PROXY_SCOPES)
  const own = i18n.strings('scopes').scopes
  return scopes.map((s, i) => [s, names[i] || own[s] || s])
    .sort((a, b) => order.indexOf(a[0]) - order.indexOf(b[0])).map((x) => x[1]).join('、')
}
const STATUS = { valid: '有效', expiring: '即将到期', expired: '已过期', suspended: '已暂停', revoked: '已注销', superseded: '已更新' }

// Beijing time whatever the phone's zone (deadlines are Beijing working days)
function fmtTime(value) {
  if (value === null || value === undefined || value === '') return ''
  const d = new Date(typeof value === 'number' ? value : String(value))
  if (Number.isNaN(d.getTime())) return String(value)
  const b = new Date(d.getTime() + 8 * 3600 * 1000)
  const p = (n) => String(n).padStart(2, '0')
  return `${b.getUTCFullYear()}-${p(b.getUTCMonth() + 1)}-${p(b.getUTCDate())} ${p(b.getUTCHours())}:${p(b.getUTCMinutes())}`
}

module.exports = { STATE_NAMES, STATUS, PROXY_SCOPES, scopeWords, fmtTime }
