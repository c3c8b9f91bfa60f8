// WeChat's privacy check ("__usePrivacyCheck__"): before a privacy API (phone number,
// camera, album, location, …) runs, WeChat asks the page through wx.onNeedPrivacyAuthorization;
// this popup shows our 隐私政策 (the same version as the H5, GET /api/v1/agreements) and
// answers WeChat with the person's choice. Put one on every page that calls such an API.
const { api } = require('../../utils/api')

Component({
  data: { show: false, title: '隐私政策', version: '' },
  lifetimes: {
    attached() {
      if (!wx.onNeedPrivacyAuthorization) return
      wx.onNeedPrivacyAuthorization((resolve) => {
        this.resolve = resolve
        this.setData({ show: true })
        api.get('/api/v1/agreements').then((r) => {
          const doc = r.items.find((d) => d.kind === 'privacy')
          if (doc) this.setData({ title: doc.title, version: doc.version })
        }).catch(() => {})
      })
    },
  },
  methods: {
    open() { wx.navigateTo({ url: '/me/agreement/index?kind=privacy' }) },
    agreed() {
      this.setData({ show: false })
      if (this.resolve) this.resolve({ buttonId: 'privacy-agree', event: 'agree' })
      this.resolve = null
    },
    refuse() {
      this.setData({ show: false })
      if (this.resolve) this.resolve({ event: 'disagree' })
      this.resolve = null
    },
  },
})
