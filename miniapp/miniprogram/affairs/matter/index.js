// 办事指南: what the matter asks for, where and when it is handled in person, and whom to call.
// A matter with 情形 (补领结婚证: 遗失 or 损毁) asks which one first: the materials shown follow
// the choice, and 在线办理 — disabled until then — carries it to the form (?situation=), whose
// fields and materials depend on it. 办理地点 are the halls handling the matter, each opening
// the hall page with the matter chosen (to book or take a number); the phones call.
const { api, showError } = require('../../utils/api')

Page({
  data: { m: null, situation: '', situationName: '', materials: [], places: [], elder: false },
  async onLoad({ code, situation }) {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const m = await api.get(`/api/v1/matters/${code}`)
      const places = (m.places || []).map((p) => ({ ...p, url: `/halls/hall/index?id=${p.hall_id}&matter=${m.code}` }))
      this.setData({ m, places })
      this.choose((m.situations || []).some((s) => s.id === situation) ? situation : '')
    } catch (e) { showError(e) }
  },
  onSituation(e) { this.choose(e.currentTarget.dataset.id) },
  // the materials of the chosen situation; before a choice, all, those of one situation saying so
  choose(id) {
    const { m } = this.data
    const names = Object.fromEntries((m.situations || []).map((s) => [s.id, s.name]))
    const materials = m.materials.filter((x) => !id || !x.situations || x.situations.includes(id)).map((x) => ({
      id: x.id, name: x.name, required: x.required,
      note: [!id && x.situations ? `仅“${x.situations.map((s) => names[s]).join('”“')}”时需要` : '',
        x.certificate_type ? '可用电子证照免提交' : ''].filter(Boolean).join('；') }))
    this.setData({ situation: id, situationName: names[id] || '', materials })
  },
  apply() {
    const { m, situation } = this.data
    if (m.situations && !situation) { wx.showToast({ title: '请先选择办理情形', icon: 'none' }); return }
    wx.navigateTo({ url: `/affairs/apply/index?code=${m.code}${situation ? `&situation=${situation}` : ''}` })
  },
  call(e) { wx.makePhoneCall({ phoneNumber: e.currentTarget.dataset.phone }) },
})
