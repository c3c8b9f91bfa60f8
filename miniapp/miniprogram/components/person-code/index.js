// The person (or enterprise) code: the QR image, the 短码 for manual entry, and a countdown
// that asks the page for a fresh code when the current one reaches its refresh time.
const i18n = require('../../utils/i18n')

Component({
  properties: {
    code: { type: Object, value: null }, // {code, short_code, expires_at, refresh_after}
    imageSrc: { type: String, value: '' },
    name: { type: String, value: '' },
  },
  data: { secondsLeft: 0, t: {}, whose: '', tip: '' },
  observers: {
    'name, secondsLeft'(name, seconds) {
      this.setData({ whose: i18n.t('code.whose', { name }), tip: i18n.t('code.tip', { seconds }) })
    },
    code(code) {
      this.asked = false
      if (code) this.tick()
    },
  },
  lifetimes: {
    attached() {
      this.setData({ t: i18n.strings('code'), whose: i18n.t('code.whose', { name: this.data.name }),
        tip: i18n.t('code.tip', { seconds: this.data.secondsLeft }) })
      this.timer = setInterval(() => this.tick(), 1000)
    },
    detached() { clearInterval(this.timer) },
  },
  methods: {
    tick() {
      const code = this.data.code
      if (!code) return
      const left = Math.max(0, Math.round((new Date(code.refresh_after).getTime() - Date.now()) / 1000))
      if (left !== this.data.secondsLeft) this.setData({ secondsLeft: left })
      if (left === 0 && !this.asked) {
        this.asked = true // once per code: the page answers by setting a new code
        this.triggerEvent('refresh', { code: code.code })
      }
    },
  },
})
