// A pre-filled application: fields from the matter's JSON Schema, values from identity and
// wallet, 免证办 materials ticked, the rest uploaded (wx.chooseMedia). Before submitting, the
// resident is asked to allow progress notifications (subscribe message). One Idempotency-Key
// per filled form: a retry after a lost response returns the same application.
// A matter with 情形 takes the one chosen in its guide (?situation=): its own fields are added and
// required, the fields only other situations ask for are left out (the form refuses them), only
// its materials are asked for, and it is sent with the application; none or an unknown one
// sends the person back to the guide to choose.
// With ?bundle=<code>: a 一件事 bundle — one merged form for several matters, one submission,
// handled in parallel by each department.
const { api, newIdempotencyKey, showError, askForNotifications, uploadFile } = require('../../utils/api')

Page({
  data: { name: '', situationName: '', fields: [], form: {}, materials: [], uploads: {}, errors: {}, missing: '', busy: false,
    reduction: '', elder: false },
  async onLoad({ code, bundle, situation }) {
    this.code = code
    this.bundle = bundle
    this.situation = situation || ''
    this.key = newIdempotencyKey()
    this.setData({ elder: getApp().globalData.elder })
    try {
      if (bundle) await this.loadBundle(bundle)
      else await this.loadMatter(code)
    } catch (e) { showError(e) }
  },
  fieldsOf(schema) {
    const required = schema.required || []
    return Object.entries(schema.properties).map(([key, s]) => ({
      key, title: s.title || key, type: s.type, options: s.enum || null, date: s.format === 'date',
      long: (s.maxLength || 0) > 100, required: required.includes(key) }))
  },
  // the form of one 情形: its own fields required, those only other situations ask for left out
  // (as the server checks)
  formFor(m, sid) {
    const base = m.form.schema
    if (!m.situations) return base
    const own = (m.situations.find((s) => s.id === sid) || {}).fields || []
    const others = m.situations.flatMap((s) => s.fields || []).filter((f) => !own.includes(f))
    const properties = Object.fromEntries(Object.entries(base.properties).filter(([k]) => !others.includes(k)))
    return { ...base, properties, required: [...(base.required || []), ...own] }
  },
  async loadMatter(code) {
    const [m, p] = await Promise.all([api.get(`/api/v1/matters/${code}`), api.get(`/api/v1/matters/${code}/prefill`)])
    const chosen = (m.situations || []).find((s) => s.id === this.situation)
    if (m.situations && !chosen) {
      wx.showToast({ title: '请先选择办理情形', icon: 'none' })
      this.toGuide()
      return
    }
    this.situation = chosen ? chosen.id : '' // none for a matter without situations
    const schema = this.formFor(m, this.situation)
    const form = Object.fromEntries(Object.entries(p.form).filter(([k]) => k in schema.properties))
    const materials = p.materials.filter((x) => !x.situations || x.situations.includes(this.situation))
    this.setData({ name: m.name, situationName: chosen ? chosen.name : '', fields: this.fieldsOf(schema), form, materials })
  },
  // back to the guide to choose the 情形 (the guide this form was opened from, if it was)
  toGuide() {
    const pages = typeof getCurrentPages === 'function' ? getCurrentPages() : []
    const prev = pages[pages.length - 2]
    if (prev && prev.route === 'affairs/matter/index' && prev.options && prev.options.code === this.code) wx.navigateBack()
    else wx.redirectTo({ url: `/affairs/matter/index?code=${this.code}` })
  },
  async loadBundle(code) {
    const b = await api.get(`/api/v1/bundles/${code}`)
    const prefills = await Promise.all(b.matters.map((m) => api.get(`/api/v1/matters/${m.code}/prefill`)))
    const form = {}
    const inWallet = {}
    for (const p of prefills) {
      for (const [k, v] of Object.entries(p.form)) if (k in b.form.properties && !(k in form)) form[k] = v
      for (const m of p.materials) if (m.satisfied_by_wallet) inWallet[m.certificate_type] = m.certificate_id
    }
    const materials = b.materials.map((m) => ({ ...m, satisfied_by_wallet: !!inWallet[m.certificate_type],
      certificate_id: inWallet[m.certificate_type] || null }))
    this.setData({ name: b.name, fields: this.fieldsOf(b.form), form, materials,
      reduction: `一次填写 ${b.fields_merged} 项（分别申请需填写 ${b.fields_separately} 项），${b.matters.length} 个部门并联办理` })
  },
  onField(e) {
    const { key, type } = e.currentTarget.dataset
    const v = e.detail
    this.setData({ [`form.${key}`]: (type === 'number' || type === 'integer') && v !== '' ? Number(v) : v })
  },
  // a choice from a list, or a date ("2015-05-20")
  onPick(e) {
    const key = e.currentTarget.dataset.key
    const field = this.data.fields.find((f) => f.key === key)
    this.setData({ [`form.${key}`]: field.options ? field.options[Number(e.detail.value)] : e.detail.value })
  },
  async upload(e) {
    const id = e.currentTarget.dataset.id
    try {
      const up = await uploadFile()
      if (up) this.setData({ [`uploads.${id}`]: up.id, [`errors.${id}`]: '' })
      if (up && this.data.missing) this.setData({ missing: this.missingNames().join('、') })
    } catch (err) { showError(err) }
  },
  // the required materials neither in the wallet nor uploaded yet
  missingNames() {
    const { uploads } = this.data
    return this.data.materials.filter((m) => m.required && !m.satisfied_by_wallet && !uploads[m.id]).map((m) => m.name)
  },
  async submit() {
    const { uploads } = this.data
    const missing = this.missingNames()
    this.setData({ missing: missing.join('、') })
    if (missing.length) { wx.showToast({ title: '请先上传必交的材料', icon: 'none' }); return }
    const materials = this.data.materials.map((m) => (m.satisfied_by_wallet ? { id: m.id, certificate_id: m.certificate_id }
      : uploads[m.id] ? { id: m.id, upload_id: uploads[m.id] } : null)).filter(Boolean)
    this.setData({ busy: true, errors: {} })
    await askForNotifications()
    try {
      if (this.bundle) {
        const b = await api.create('/api/v1/bundle-applications', { bundle: this.bundle, form: this.data.form, materials }, this.key)
        wx.redirectTo({ url: `/affairs/bundle/index?id=${b.id}` })
        return
      }
      const body = { matter: this.code, form: this.data.form, materials }
      if (this.situation) body.situation = this.situation
      const a = await api.create('/api/v1/applications', body, this.key)
      if (a.state === 'completed' && a.result && a.result.certificate_id) {
        wx.showModal({ title: '已办结（秒批）', content: `符合全部条件，已即时办结，「${a.result.type_name || '结果证照'}」已放入卡包。`, showCancel: false })
      }
      wx.redirectTo({ url: `/affairs/application/index?id=${a.id}` })
    } catch (e) {
      this.setData({ errors: e.fields || {} })
      showError(e)
    } finally { this.setData({ busy: false }) }
  },
})
