// Certificate detail and 亮证: a one-time share for the chosen purpose; the shown image
// carries the purpose as a watermark and a QR the other side scans to verify it.
const { api, request, showError } = require('../../utils/api')

Page({
  data: { cert: null, purpose: '', imageSrc: '', errors: {}, elder: false },
  async onLoad({ id }) {
    this.id = id
    this.setData({ elder: getApp().globalData.elder })
    try { this.setData({ cert: await api.get(`/api/v1/wallet/${id}`) }) } catch (e) { showError(e) }
  },
  onPurpose(e) { this.setData({ purpose: e.detail }) },
  async show() {
    try {
      const fields = this.data.cert.fields.filter((f) => !f.sensitive).map((f) => f.name)
      const share = await api.post(`/api/v1/wallet/${this.id}/shares`, { purpose: this.data.purpose, fields, ttl: 300 })
      const token = share.verify_url.split('/').pop()
      const png = await request(`/api/v1/verify/shares/${token}/image`, { raw: true })
      const path = `${wx.env.USER_DATA_PATH}/share-${token.slice(0, 8)}.png`
      wx.getFileSystemManager().writeFileSync(path, png)
      this.setData({ imageSrc: path, errors: {} })
    } catch (e) { this.setData({ errors: e.fields || {} }); showError(e) }
  },
})
