// A 一件事 bundle's progress: one number, each matter handled in parallel by its department.
const { api, showError } = require('../../utils/api')

const NAMES = { in_progress: '办理中', supplement_requested: '有事项待补正', completed: '已全部办结', partially_denied: '部分事项未获批准' }

Page({
  data: { b: null, stateName: '', elder: false },
  onLoad({ id }) { this.id = id },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try {
      const b = await api.get(`/api/v1/bundle-applications/${this.id}`)
      this.setData({ b, stateName: NAMES[b.state] || b.state })
    } catch (e) { showError(e) }
  },
})
