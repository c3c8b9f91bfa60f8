// Certificate detail and 亮证: the holder chooses the fields to show and says what for; the
// one-time share (10 minutes at most) gives a QR whoever checks it scans with any phone
// camera (the verify page), and an image carrying the purpose as a watermark.
const { api, request, showError } = require('../../utils/api')
const { STATUS } = require('../../utils/format')

Page({
  data: { cert: null, status: '', purpose: '', fields: [], chosen: {}, qrSrc: '', imageSrc: '', expires: '', errors: {},
    busy: false, elder: false },
  async onLoad({ id }) {
    this.id = id
    this.setData({ elder: getApp().globalData.elder })
    try {
      const cert = await api.get(`/api/v1/wallet/${id}`)
      // sensitive fields (ID numbers, archive numbers) are not offered by default
      const chosen = Object.fromEntries(cert.fields.map((f) => [f.name, !f.sensitive]))
      this.setData({ cert, status: STATUS[cert.status] || cert.status, fields: cert.fields, chosen })
    } catch (e) { showError(e) }
  },
  onPurpose(e) { this.setData({ purpose: e.detail, 'errors.purpose': '' }) },
  toggle(e) {
    const name = e.currentTarget.dataset.name
    this.setData({ [`chosen.${name}`]: !this.data.chosen[name], 'errors.fields': '' })
  },
  async save(path, bytes) {
    const file = `${wx.env.USER_DATA_PATH}/${path}`
    wx.getFileSystemManager().writeFileSync(file, bytes)
    return file
  },
  async show() {
    const purpose = this.data.purpose.trim()
    const fields = Object.keys(this.data.chosen).filter((k) => this.data.chosen[k])
    const errors = {}
    if (purpose.length < 2) errors.purpose = '请写明用途（至少 2 个字），会印在水印上'
    if (!fields.length) errors.fields = '请至少选择一项要出示的信息'
    if (errors.purpose || errors.fields) { this.setData({ errors }); return }
    this.setData({ busy: true })
    try {
      const share = await api.post(`/api/v1/wallet/${this.id}/shares`, { purpose, fields, ttl: 600 })
      const qr = await request(`/api/v1/verify/shares/${share.token}/qr`, { raw: true })
      const image = await request(`/api/v1/verify/shares/${share.token}/image`, { raw: true })
      this.setData({
        qrSrc: await this.save(`share-qr-${share.token.slice(0, 8)}.png`, qr),
        imageSrc: await this.save(`share-${share.token.slice(0, 8)}.png`, image),
        expires: share.expires_at, errors: {},
      })
      wx.pageScrollTo({ selector: '.share', duration: 300 })
    } catch (e) { this.setData({ errors: e.fields || {} }); showError(e) } finally { this.setData({ busy: false }) }
  },
})
