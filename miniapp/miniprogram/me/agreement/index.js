// One of the agreements (用户协议 / 隐私政策), as the H5 shows it: the same text and version.
const { api, showError } = require('../../utils/api')

Page({
  data: { doc: null, elder: false },
  async onLoad({ kind }) {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const r = await api.get('/api/v1/agreements')
      const doc = r.items.find((d) => d.kind === kind) || r.items[0]
      this.setData({ doc })
      wx.setNavigationBarTitle({ title: doc.title })
    } catch (e) { showError(e) }
  },
})
