// Enterprises the person represents or acts for: invitations to accept or decline, switching
// to act for an enterprise (the access token then carries the act claim, re-checked on every
// request), and the enterprise code (一企一码) while acting.
const { api, request, session, showError } = require('../../utils/api')

const SCOPES = { matters: '办事', certificates: '证照', code: '企业码', agents: '管理经办人' }

Page({
  data: { enterprises: [], invitations: [], acting: null, codeSrc: '', loaded: false, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    await this.load()
  },
  async load() {
    try {
      const [ents, inv] = await Promise.all([api.get('/api/v1/enterprises'), api.get('/api/v1/me/invitations')])
      const acting = await api.get('/api/v1/enterprises/current').catch(() => null)
      this.setData({
        enterprises: ents.items.map((e) => ({ ...e, role: e.my_role === 'admin' ? '管理员' : '经办人' })),
        invitations: inv.items.map((i) => ({ ...i, scopeText: i.scopes.map((s) => SCOPES[s] || s).join('、') })),
        acting, loaded: true,
      })
      if (acting && acting.scopes.includes('code')) await this.loadCode(acting.enterprise_id)
      else this.setData({ codeSrc: '' })
    } catch (e) { showError(e) }
  },
  async loadCode(id) {
    const code = await api.get(`/api/v1/codes/enterprise/${id}`)
    const png = await request(code.png_url, { raw: true })
    const path = `${wx.env.USER_DATA_PATH}/enterprise-code.png`
    wx.getFileSystemManager().writeFileSync(path, png)
    this.setData({ codeSrc: `${path}?${Date.now()}` })
  },
  async actAs(e) {
    const id = e.currentTarget.dataset.id || null
    try {
      const r = await api.post('/api/v1/auth/act-as', { enterprise_id: id })
      session.save(r)
      wx.showToast({ title: id ? `已切换为 ${r.acting.enterprise_name}` : '已切回个人', icon: 'none' })
      await this.load()
    } catch (err) { showError(err) }
  },
  async answer(e) {
    const { id, accept } = e.currentTarget.dataset
    try {
      await api.post(`/api/v1/me/invitations/${id}/${accept ? 'accept' : 'decline'}`)
      wx.showToast({ title: accept ? '已接受授权' : '已拒绝', icon: 'none' })
      await this.load()
    } catch (err) { showError(err) }
  },
})
