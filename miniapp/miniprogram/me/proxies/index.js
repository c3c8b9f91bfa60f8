// 亲友代办: the grants I gave (state, scopes in words, until when; 修改 and 撤销 with a
// confirmation) and those I received (接受 / 拒绝 a pending one, 代办 an active one: act-as,
// then every page is the family member's within the granted scopes); authorising a relative
// by the phone number they registered with; 监护未成年子女 from the child's 出生医学证明 in
// my wallet. A grant counts once the relative accepts; revoking takes effect at once.
const { api, session, actFor, showError, errorText } = require('../../utils/api')
const { PROXY_SCOPES, scopeWords } = require('../../utils/format')

// what each scope lets the relative do (the form is shown before any grant exists)
const HINTS = { matters: '申请事项、查看办件', certificates: '查看卡包、亮证', appointments: '预约到大厅办事、线上取号',
  tickets: '提交和查看诉求' }
const SCOPES = Object.keys(PROXY_SCOPES).map((key) => ({ key, name: PROXY_SCOPES[key], hint: HINTS[key] }))
const LIVE = ['pending', 'active']

// a day in Beijing as YYYY-MM-DD, `years` from today
function day(years = 0) {
  const b = new Date(Date.now() + 8 * 3600 * 1000)
  const d = new Date(Date.UTC(b.getUTCFullYear() + years, b.getUTCMonth(), b.getUTCDate()))
  return d.toISOString().slice(0, 10)
}

function view(g, mine) {
  const who = mine ? g.proxy_name : g.principal_name
  return {
    id: g.id, version: g.version, state: g.state, person: g.principal_id, scopes: g.scopes, expiresOn: g.expires_on,
    title: g.kind === 'guardian' ? `${who}（未成年子女 · 监护）` : who,
    label: `${scopeWords(g.scopes, g.scope_names)} · 至 ${g.expires_on}`,
    stateName: g.state_name, live: LIVE.includes(g.state), guardian: g.kind === 'guardian',
  }
}

Page({
  data: {
    granted: [], received: [], loading: true, error: '', elder: false,
    scopes: SCOPES.map((s) => ({ ...s, checked: false })), phone: '', expiresOn: '', today: '', maxDay: '',
    errors: {}, formError: '', editing: null, busy: false,
    childName: '', childId: '', childErrors: {}, childError: '',
  },
  onLoad() { this.setData({ today: day(), maxDay: day(3), expiresOn: day(1) }) },
  onShow() {
    this.setData({ elder: getApp().globalData.elder })
    return this.load()
  },
  async load() {
    if (session.acting) { // what only the person themself may manage
      this.setData({ loading: false, error: '正在为家人代办：亲友代办授权只能由本人管理，请先切换回本人' })
      return
    }
    this.setData({ loading: !this.data.granted.length && !this.data.received.length, error: '' })
    try {
      const r = await api.get('/api/v1/me/proxies')
      this.setData({ granted: r.granted.map((g) => view(g, true)), received: r.received.map((g) => view(g, false)) })
    } catch (e) { this.setData({ error: errorText(e) }) } finally { this.setData({ loading: false }) }
  },

  // -- authorising a relative (or changing what I granted) --------------------------------------
  onPhone(e) { this.setData({ phone: String(e.detail).trim(), errors: { ...this.data.errors, phone: '' } }) },
  toggleScope(e) {
    const key = e.currentTarget.dataset.scope
    this.setData({ scopes: this.data.scopes.map((s) => (s.key === key ? { ...s, checked: !s.checked } : s)),
      errors: { ...this.data.errors, scopes: '' } })
  },
  onDate(e) { this.setData({ expiresOn: e.detail.value, errors: { ...this.data.errors, expires_on: '' } }) },
  edit(e) {
    const g = this.data.granted.find((x) => x.id === e.currentTarget.dataset.id)
    this.setData({ editing: { id: g.id, version: g.version, name: g.title }, expiresOn: g.expiresOn, errors: {}, formError: '',
      scopes: SCOPES.map((s) => ({ ...s, checked: g.scopes.includes(s.key) })) })
    wx.pageScrollTo({ selector: '#grant-form' })
  },
  cancelEdit() { this.reset() },
  reset() {
    this.setData({ editing: null, phone: '', expiresOn: day(1), errors: {}, formError: '',
      scopes: SCOPES.map((s) => ({ ...s, checked: false })) })
  },
  async submit() {
    const { editing, phone, expiresOn } = this.data
    const scopes = this.data.scopes.filter((s) => s.checked).map((s) => s.key)
    const errors = {}
    if (!editing && !/^\+?\d{5,20}$/.test(phone)) errors.phone = '请填写亲友注册时用的手机号'
    if (!scopes.length) errors.scopes = '请至少选择一项可以代办的事'
    if (!expiresOn) errors.expires_on = '请选择授权截止日期'
    if (Object.keys(errors).length) { this.setData({ errors, formError: '' }); return }
    this.setData({ busy: true, errors: {}, formError: '' })
    try {
      if (editing) {
        await api.patch(`/api/v1/me/proxies/${editing.id}`, { version: editing.version, scopes, expires_on: expiresOn })
        wx.showToast({ title: '授权已修改', icon: 'none' })
      } else {
        await api.post('/api/v1/me/proxies', { phone, scopes, expires_on: expiresOn })
        wx.showToast({ title: '已发送授权，等对方接受后生效', icon: 'none' })
      }
      this.reset()
      await this.load()
    } catch (err) {
      const fields = err.fields || {}
      this.setData({ errors: fields, formError: Object.keys(fields).length ? '' : errorText(err) })
    } finally { this.setData({ busy: false }) }
  },
  revoke(e) {
    const g = this.data.granted.find((x) => x.id === e.currentTarget.dataset.id)
    wx.showModal({
      title: '撤销代办授权',
      content: `撤销后 ${g.title} 立即不能再为您代办，正在进行的代办也会停止。`,
      confirmText: '撤销', confirmColor: '#c8102e',
      success: async ({ confirm }) => {
        if (!confirm) return
        try {
          await api.post(`/api/v1/me/proxies/${g.id}/revoke`, { version: g.version })
          wx.showToast({ title: '已撤销', icon: 'none' })
          if (this.data.editing && this.data.editing.id === g.id) this.reset()
          await this.load()
        } catch (err) { showError(err); await this.load() }
      },
    })
  },

  // -- grants to me ---------------------------------------------------------------------------------
  async answer(e) {
    const { id, accept } = e.currentTarget.dataset
    const g = this.data.received.find((x) => x.id === id)
    try {
      await api.post(`/api/v1/me/proxies/${id}/${accept ? 'accept' : 'decline'}`, { version: g.version })
      wx.showToast({ title: accept ? '已接受，可以为对方代办了' : '已拒绝', icon: 'none' })
    } catch (err) { showError(err) }
    await this.load()
  },
  async act(e) {
    const g = this.data.received.find((x) => x.id === e.currentTarget.dataset.id)
    try {
      const person = await actFor(g.person)
      wx.showToast({ title: `正在为 ${person.name} 代办`, icon: 'none' })
      wx.reLaunch({ url: '/pages/index/index' })
    } catch (err) { showError(err); await this.load() }
  },

  // -- 监护未成年子女 -----------------------------------------------------------------------------
  onChildName(e) { this.setData({ childName: String(e.detail).trim(), childErrors: {}, childError: '' }) },
  onChildId(e) { this.setData({ childId: String(e.detail).trim().toUpperCase(), childErrors: {}, childError: '' }) },
  async claim() {
    const { childName, childId } = this.data
    const childErrors = {}
    if (!childName) childErrors.child_name = '请填写子女姓名（与出生医学证明一致）'
    if (!/^\d{17}[\dX]$/.test(childId)) childErrors.child_id_number = '请填写子女 18 位公民身份号码'
    if (Object.keys(childErrors).length) { this.setData({ childErrors, childError: '' }); return }
    this.setData({ busy: true })
    try {
      await api.post('/api/v1/me/proxies/guardianship', { child_name: childName, child_id_number: childId })
      wx.showToast({ title: '已登记为监护人', icon: 'none' })
      this.setData({ childName: '', childId: '' })
      await this.load()
    } catch (err) {
      const fields = err.fields || {}
      this.setData({ childErrors: fields, childError: Object.keys(fields).length ? '' : errorText(err) })
    } finally { this.setData({ busy: false }) }
  },
})
