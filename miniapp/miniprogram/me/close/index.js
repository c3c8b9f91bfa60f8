// 注销账号: what must be settled first, what is erased and what the law keeps, then a fresh
// proof that it is the account's own WeChat user (wx.login) before DELETE /api/v1/me.
const { api, session, showError } = require('../../utils/api')

Page({
  data: { p: null, sure: false, busy: false, elder: false },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try { this.setData({ p: await api.get('/api/v1/me/closure') }) } catch (e) { showError(e) }
  },
  onSure(e) { this.setData({ sure: e.detail }) },
  open(e) { wx.navigateTo({ url: e.currentTarget.dataset.link.replace(/^\/applications\//, '/affairs/application/index?id=') }) },
  close() {
    if (!this.data.sure) { wx.showToast({ title: '请先勾选“我已了解注销后无法恢复”', icon: 'none' }); return }
    this.setData({ busy: true })
    wx.login({
      success: async ({ code }) => {
        try {
          await api.del('/api/v1/me', { wechat_code: code, confirm: '确认注销' })
          session.clear()
          wx.reLaunch({ url: '/pages/login/index' })
        } catch (e) {
          showError(e)
          if (e.code === 'account_has_obligations') this.onShow()
        } finally { this.setData({ busy: false }) }
      },
      fail: () => { this.setData({ busy: false }); wx.showToast({ title: '微信验证失败，请重试', icon: 'none' }) },
    })
  },
})
