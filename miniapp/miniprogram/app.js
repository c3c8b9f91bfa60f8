const { session } = require('./utils/api')

App({
  globalData: { elder: false },
  onLaunch() {
    this.globalData.elder = wx.getStorageSync('superapp.elder') === true
    if (!session.loggedIn()) wx.reLaunch({ url: '/pages/login/index' })
  },
  setElder(on) {
    this.globalData.elder = on
    wx.setStorageSync('superapp.elder', on)
  },
})
