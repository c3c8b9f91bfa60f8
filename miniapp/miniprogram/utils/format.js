const STATE_NAMES = {
  draft: '草稿', submitted: '已提交', accepted: '已受理', not_accepted: '不予受理', in_review: '审查中',
  supplement_requested: '待补正', resubmitted: '已补正', approved: '已批准', denied: '不予批准', completed: '已办结', withdrawn: '已撤回',
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

module.exports = { STATE_NAMES, STATUS, fmtTime }
