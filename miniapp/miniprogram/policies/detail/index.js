// One policy (政策兑现): who it is for, the benefit, the conditions and the legal basis; whether
// the person (or whom they act for) qualifies and why; the confirm form — the declared facts
// the policy asks, the bank card (its Luhn check digit checked here before anything is sent)
// and the account name — and, once confirmed, the claim's state with the card masked by the
// server. 免申即享 claims arrive 已核定 and need only the card; 依申请办理 ones go to 办事.
const { api, showError, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')

const HINTS = {
  pending_confirmation: '您符合条件，请确认并填写收款银行卡',
  granted: '已为您核定（免申即享），填写收款银行卡后即可发放',
  confirmed: '已确认，等待{dept}审核',
  approved: '审核通过，正在发放',
  paying: '审核通过，银行发放中',
  paid: '已发放到您的银行账户',
  failed: '银行发放未成功，{dept}将重新发放',
  rejected: '未通过',
}
const OPEN = ['pending_confirmation', 'granted'] // a claim the holder still confirms

// the card number's check digit (Luhn), as the bank and the server check it
function luhnOk(number) {
  if (!/^[0-9]{12,19}$/.test(number)) return false
  let sum = 0
  for (let i = 0; i < number.length; i += 1) {
    let d = Number(number[number.length - 1 - i])
    if (i % 2) { d *= 2; if (d > 9) d -= 9 }
    sum += d
  }
  return sum % 10 === 0
}

function claimView(c, p) {
  if (!c) return null
  const hint = (HINTS[c.state] || '').replace('{dept}', p.department_name)
  return { id: c.id, state: c.state, stateName: c.state_name, amount: c.amount_yuan, account: c.bank_account || '',
    period: c.period === 'once' ? '' : c.period, hint: c.state === 'rejected' && c.reason ? `${hint}：${c.reason}` : hint,
    updated: fmtTime(c.updated_at), paid: fmtTime(c.paid_at) }
}

Page({
  data: {
    p: null, status: '', reason: '', rulesText: '', materialsText: '', claim: null, canConfirm: false, fields: [], account: '', accountName: '',
    errors: {}, formError: '', busy: false, loading: true, error: '', elder: false,
  },
  onLoad({ code }) { this.code = code },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    this.setData({ loading: !this.data.p, error: '' })
    try {
      const [p, r, mine] = await Promise.all([api.get(`/api/v1/policies/${this.code}`), api.get('/api/v1/policies/matches'),
        api.get('/api/v1/policy-claims')])
      const m = r.items.find((x) => x.policy.code === this.code) || null
      const claim = (m && m.claim) || mine.items.find((c) => c.policy === this.code) || null
      this.show(p, m, claim, r.holder)
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },
  show(p, m, claim, holder) {
    let status = ''
    let reason = ''
    if (!p.open) status = `不在兑现期内（${p.valid_from} 至 ${p.valid_until}）`
    else if (!m) status = `该政策面向${p.target === 'person' ? '个人' : '企业'}`
    else if (m.status === 'eligible') { status = '符合条件'; reason = `符合：${p.rules.join('、')}` } else if (m.status === 'maybe') {
      status = '还须申报'; reason = `请申报：${m.needs.map((n) => n.label).join('、')}`
    } else { status = '暂不符合'; reason = `不符合：${m.failing.join('、')}` }
    const canConfirm = Boolean(p.open && m && m.status !== 'not_eligible' && p.mode !== 'apply'
      && (!claim || OPEN.includes(claim.state)))
    const old = Object.fromEntries(this.data.fields.map((f) => [f.name, f.value]))
    const fields = p.declared.map((d) => ({ ...d, value: old[d.name] !== undefined ? old[d.name] : (d.type === 'boolean' ? false : '') }))
    this.setData({ p, status, reason, claim: claimView(claim, p), canConfirm, fields,
      rulesText: p.rules.join('、') || '无', materialsText: p.materials.join('、'),
      accountName: this.data.accountName || (holder && holder.name) || '' })
  },

  // -- the form ---------------------------------------------------------------------------------
  onField(e) {
    const name = e.currentTarget.dataset.name
    this.setData({ fields: this.data.fields.map((f) => (f.name === name ? { ...f, value: f.type === 'boolean' ? !f.value : e.detail } : f)),
      errors: { ...this.data.errors, [name]: '' } })
  },
  onAccount(e) { this.setData({ account: String(e.detail), errors: { ...this.data.errors, bank_account: '' } }) },
  onAccountName(e) { this.setData({ accountName: String(e.detail), errors: { ...this.data.errors, account_name: '' } }) },
  check() {
    const errors = {}
    const form = {}
    for (const f of this.data.fields) {
      if (f.type === 'boolean') {
        if (!f.value) errors[f.name] = '须确认此项方可申领'
        form[f.name] = Boolean(f.value)
      } else if (f.type === 'integer') {
        const v = String(f.value).trim()
        if (!/^[0-9]{1,6}$/.test(v)) errors[f.name] = '请填写人数（整数）'
        form[f.name] = Number(v)
      } else {
        if (!String(f.value).trim()) errors[f.name] = '请填写'
        form[f.name] = String(f.value).trim()
      }
    }
    const account = this.data.account.replace(/\s+/g, '')
    if (!/^[0-9]{12,19}$/.test(account)) errors.bank_account = '请输入 12 至 19 位银行卡号'
    else if (!luhnOk(account)) errors.bank_account = '银行卡号有误（校验位不符），请核对后重新输入'
    if (!this.data.accountName.trim()) errors.account_name = '请填写收款户名'
    return { errors, body: { form, bank_account: account, account_name: this.data.accountName.trim() } }
  },
  async submit() {
    const { errors, body } = this.check()
    this.setData({ errors, formError: '' })
    if (Object.values(errors).some(Boolean)) return
    this.setData({ busy: true })
    try {
      const c = await api.post(`/api/v1/policies/${this.code}/claims`, body)
      // the typed number is dropped: from now on only the server's masked one is shown
      this.setData({ claim: claimView(c, this.data.p), canConfirm: false, account: '' })
      wx.showToast({ title: c.state === 'confirmed' ? '已确认，等待审核' : '已提交发放', icon: 'none' })
    } catch (err) {
      const fields = (err && err.fields) || {}
      const named = {}
      for (const k of ['bank_account', 'account_name', ...this.data.fields.map((f) => f.name)]) if (fields[k]) named[k] = fields[k]
      if (Object.keys(named).length) this.setData({ errors: named })
      else this.setData({ formError: errorText(err) })
      if (!err || !err.status || err.status >= 500) showError(err)
      if (err && err.code === 'claim_exists') await this.load() // claimed meanwhile (another phone): show it
    } finally { this.setData({ busy: false }) }
  },
  toMatter() { wx.navigateTo({ url: `/affairs/matter/index?code=${this.data.p.matter}` }) },
})
