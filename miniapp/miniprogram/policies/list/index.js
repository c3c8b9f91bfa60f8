// 我可享受 (政策兑现): every open policy of the person (or the enterprise they act for, or the
// family member they act for) matched against what the platform already knows — the verified
// identity, the enterprise's registration, the certificates in the wallet — grouped 符合条件 /
// 还须申报 / 暂不符合, each with its reason; 免申即享 ones are granted on sight. Below, 申领进度.
const { api, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

const GROUPS = [
  { status: 'eligible', title: '符合条件，可以享受' },
  { status: 'maybe', title: '还须您申报几项' },
  { status: 'not_eligible', title: '暂不符合' },
]

function reason(m) {
  if (m.status === 'eligible') return `符合：${m.policy.rules.join('、')}`
  if (m.status === 'maybe') return `还须申报：${m.needs.map((n) => n.label).join('、')}`
  return `不符合：${m.failing.join('、')}`
}

function item(m) {
  const p = m.policy
  return { code: p.code, title: p.title, reason: reason(m), label: `${p.benefit} · ${reason(m)}`,
    value: m.claim ? m.claim.state_name : p.mode_name }
}

Page({
  data: { holder: '', groups: [], claims: [], loading: true, error: '', elder: false },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.groups.length, error: '' })
    try {
      const [r, c] = await Promise.all([api.get('/api/v1/policies/matches'), api.get('/api/v1/policy-claims')])
      const groups = GROUPS.map((g) => ({ ...g, items: r.items.filter((m) => m.status === g.status).map(item) }))
        .filter((g) => g.items.length)
      const claims = c.items.map((k) => ({ id: k.id, code: k.policy, title: k.policy_title, state: k.state_name,
        label: `${k.period === 'once' ? '' : `${k.period} 年度 · `}${k.amount_yuan} 元${k.bank_account ? ` · ${k.bank_account}` : ''} · ${fmtTime(k.updated_at)}` }))
      this.setData({ holder: r.holder.name, groups, claims })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  toMatters() { wx.switchTab({ url: '/pages/matters/index' }) },
})
