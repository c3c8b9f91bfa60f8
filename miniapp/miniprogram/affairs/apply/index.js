// A pre-filled application: fields from the matter's JSON Schema, values from identity and
// wallet, 免证办 materials ticked, the rest uploaded (wx.chooseMedia). Before submitting, the
// resident is asked to allow progress notifications (subscribe message). One Idempotency-Key
// per filled form: a retry after a lost response returns the same application.
// With ?bundle=<code>: a 一件事 bundle — one merged form for several matters, one submission,
// handled in parallel by each department.
const { api, newIdempotencyKey, showError, askForNotifications, uploadFile } = require('../../utils/api')

Page({
  data: { name: '', fields: [], form: {}, materials: [], uploads: {}, errors: {}, busy: false, reduction: '', elder: false },
  async onLoad({ code, bundle }) {
    this.code = code
    this.bundle = bundle
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
      key, title: s.title || key, type: s.type, options: s.enum || null, required: required.includes(key) }))
  },
  async loadMatter(code) {
    const [m, p] = await Promise.all([api.get(`/api/v1/matters/${code}`), api.get(`/api/v1/matters/${code}/prefill`)])
    this.setData({ name: m.name, fields: this.fieldsOf(m.form.schema), form: p.form, materials: p.materials })
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
  onPick(e) {
    const key = e.currentTarget.dataset.key
    const field = this.data.fields.find((f) => f.key === key)
    this.setData({ [`form.${key}`]: field.options[Number(e.detail.value)] })
  },
  async upload(e) {
    const id = e.currentTarget.dataset.id
    try {
      const up = await uploadFile()
      if (up) this.setData({ [`uploads.${id}`]: up.id })
    } catch (err) { showError(err) }
  },
  async submit() {
    const materials = this.data.materials.map((m) => (m.satisfied_by_wallet ? { id: m.id, certificate_id: m.certificate_id }
      : this.data.uploads[m.id] ? { id: m.id, upload_id: this.data.uploads[m.id] } : null)).filter(Boolean)
    this.setData({ busy: true })
    await askForNotifications()
    try {
      if (this.bundle) {
        const b = await api.create('/api/v1/bundle-applications', { bundle: this.bundle, form: this.data.form, materials }, this.key)
        wx.redirectTo({ url: `/affairs/bundle/index?id=${b.id}` })
        return
      }
      const a = await api.create('/api/v1/applications', { matter: this.code, form: this.data.form, materials }, this.key)
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
