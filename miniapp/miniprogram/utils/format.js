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

// What the audit trail's action codes mean (the H5 has the same table in src/audit-actions.js;
// the two builds cannot share a module).
const ACTIONS = {
  login: '登录', logout: '退出登录', 'agreements.accepted': '同意用户协议和隐私政策',
  'account.created': '开户', 'account.joined': '关联登录方式', 'phone.bound': '绑定手机号', 'wechat.bound': '绑定微信',
  'realname.verified': '实名认证通过', 'realname.failed': '实名认证未通过', 'face.verified': '人脸核验通过', 'face.failed': '人脸核验未通过',
  'profile.updated': '修改个人设置', 'pii.revealed': '查看完整证件号码', 'logout.all': '退出全部设备',
  'codes.revoked_all': '作废全部服务码', 'consent.requested': '收到授权请求', 'consent.decided': '作出授权决定',
  'consent.approved': '同意授权', 'consent.partially_approved': '部分同意授权', 'consent.rejected': '拒绝授权',
  'consent.disclosed': '授权信息已提供给对方',
  'certificate.issued': '发证机关签发证照', 'certificate.updated': '证照更新', 'certificate.suspended': '证照暂停',
  'certificate.reinstated': '证照恢复', 'certificate.revoked': '证照注销', 'certificate.viewed': '查看证照',
  'certificate.revealed': '查看证照完整信息', 'certificate.shared': '亮证', 'upload.created': '上传材料',
  'rating.created': '评价办件', 'rating.changed': '修改评价', 'enterprise.bound': '绑定企业', 'acting.started': '切换为代表企业办事',
  'agent.invited': '授权经办人', 'agent.accepted': '接受经办人授权', 'agent.declined': '拒绝经办人授权',
  'agent.changed': '修改经办人授权', 'agent.revoked': '撤销经办人授权',
}

function actionName(action) {
  if (ACTIONS[action]) return ACTIONS[action]
  const [kind, rest] = String(action).split('.', 2)
  if (kind === 'application' && STATE_NAMES[rest]) return `办件：${STATE_NAMES[rest]}`
  return '其他操作'
}

module.exports = { STATE_NAMES, STATUS, fmtTime, actionName }
