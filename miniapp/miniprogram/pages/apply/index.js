// A pre-filled application: fields from the matter's JSON Schema, values from identity and
// wallet, 免证办 materials ticked, the rest uploaded (wx.chooseMedia). Before submitting, the
// resident is asked to allow progress notifications (subscribe message). One Idempotency-Key
// per filled form: a retry after a lost response returns the same application.
const { api, request, newIdempotencyKey, showError, config } = require('../../utils/api')
const { uploadFile } = require('../../utils/upload')

Page({
  data: { name: '', fields: [], form: {}, materials: [], uploads: {}, errors: {}, busy: false, elder: false },
  async onLoad({ code }) {
    this.code = code
    this.key = newIdempotencyKey()
    this.setData({ elder: getApp().globalData.elder })
    try {
      const [m, p] = await Promise.all([api.get(`/api/v1/matters/${code}`), api.get(`/api/v1/matters/${code}/prefill`)])
      const schema = m.form.schema
      const required = schema.required || []
      const fields = Object.entries(schema.properties).map(([key, s]) => ({
        key, title: s.title || key, type: s.type, options: s.enum || null, required: required.includes(key) }))
      this.setData({ name: m.name, fields, form: p.form, materials: p.materials })
    } catch (e) { showError(e) }
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
      const up = await uploadFile(request)
      if (up) this.setData({ [`uploads.${id}`]: up.id })
    } catch (err) { showError(err) }
  },
  askForNotifications() {
    return new Promise((resolve) => {
      wx.requestSubscribeMessage({ tmplIds: [config.subscribeTemplateId], complete: resolve })
    })
  },
  async submit() {
    const materials = this.data.materials.map((m) => (m.satisfied_by_wallet ? { id: m.id, certificate_id: m.certificate_id }
      : this.data.uploads[m.id] ? { id: m.id, upload_id: this.data.uploads[m.id] } : null)).filter(Boolean)
    this.setData({ busy: true })
    await this.askForNotifications()
    try {
      const a = await api.create('/api/v1/applications', { matter: this.code, form: this.data.form, materials }, this.key)
      wx.redirectTo({ url: `/pages/application/index?id=${a.id}` })
    } catch (e) {
      this.setData({ errors: e.fields || {} })
      showError(e)
    } finally { this.setData({ busy: false }) }
  },
})
