// WeChat login: the 用户协议 and 隐私政策 are shown first (the same versions as the H5) and
// agreed to before wx.login's code is sent; binding the phone goes through WeChat's privacy
// check (privacy-popup) because getPhoneNumber is a privacy API.
const { api, session, showError, agreements } = require('../../utils/api')
const i18n = require('../../utils/i18n')

Page({
  data: { t: {}, step: 'login', busy: false, elder: false, docs: [], agreed: false, agreeError: '' },
  async onShow() {
    this.setData({ elder: getApp().globalData.elder, t: i18n.strings('login') })
    i18n.title()
    try { const a = await agreements(); this.versions = a.versions; this.setData({ docs: a.docs }) } catch (e) { showError(e) }
  },
  onAgree(e) { this.setData({ agreed: e.detail, agreeError: '' }) },
  openDoc(e) { wx.navigateTo({ url: `/me/agreement/index?kind=${e.currentTarget.dataset.kind}` }) },
  login() {
    if (!this.data.agreed) { this.setData({ agreeError: i18n.t('login.mustAgree') }); return }
    this.setData({ busy: true })
    wx.login({
      success: async ({ code }) => {
        try {
          const r = await api.post('/api/v1/auth/wechat/miniapp', { code, agreements: this.versions })
          session.stopActing() // a new login acts for nobody
          session.save(r)
          if (r.person && r.person.phone) this.done(r.person)
          else this.setData({ step: 'phone' })
        } catch (e) {
          if (e.code === 'agreement_outdated') { this.setData({ agreed: false }); this.onShow() }
          showError(e)
        } finally { this.setData({ busy: false }) }
      },
      fail: () => { this.setData({ busy: false }); wx.showToast({ title: i18n.t('login.failed'), icon: 'none' }) },
    })
  },
  async bindPhone(e) {
    if (!e.detail.code) { wx.showToast({ title: i18n.t('login.noPhone'), icon: 'none' }); return }
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
