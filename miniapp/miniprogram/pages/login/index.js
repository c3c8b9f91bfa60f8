// WeChat login: the 用户协议 and 隐私政策 are shown first (the same versions as the H5) and
// agreed to before wx.login's code is sent; binding the phone goes through WeChat's privacy
// check (privacy-popup) because getPhoneNumber is a privacy API.
const { api, session, showError, agreements } = require('../../utils/api')

Page({
  data: { step: 'login', busy: false, elder: false, docs: [], agreed: false, agreeError: '' },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder })
    try { const a = await agreements(); this.versions = a.versions; this.setData({ docs: a.docs }) } catch (e) { showError(e) }
  },
  onAgree(e) { this.setData({ agreed: e.detail, agreeError: '' }) },
  openDoc(e) { wx.navigateTo({ url: `/me/agreement/index?kind=${e.currentTarget.dataset.kind}` }) },
  login() {
    if (!this.data.agreed) { this.setData({ agreeError: '请先阅读并同意《用户协议》和《隐私政策》' }); return }
    this.setData({ busy: true })
    wx.login({
      success: async ({ code }) => {
        try {
          const r = await api.post('/api/v1/auth/wechat/miniapp', { code, agreements: this.versions })
          session.save(r)
          if (r.person && r.person.phone) this.done(r.person)
          else this.setData({ step: 'phone' })
        } catch (e) {
          if (e.code === 'agreement_outdated') { this.setData({ agreed: false }); this.onShow() }
          showError(e)
        } finally { this.setData({ busy: false }) }
      },
      fail: () => { this.setData({ busy: false }); wx.showToast({ title: '微信登录失败，请重试', icon: 'none' }) },
    })
  },
  async bindPhone(e) {
    if (!e.detail.code) { wx.showToast({ title: '未授权手机号，可稍后在“我的”中绑定', icon: 'none' }); return }
    try {
      const r = await api.post('/api/v1/auth/wechat/phone', { code: e.detail.code })
      session.save(r)
      this.done(r.person)
    } catch (err) { showError(err) }
  },
  skip() { this.done({ level: 0 }) },
  done(person) {
    wx.reLaunch({ url: person && person.level >= 2 ? '/pages/index/index' : '/pages/realname/index' })
  },
})
