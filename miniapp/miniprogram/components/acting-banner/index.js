// 亲友代办: on every main page while the person acts for a family member, who it is for and
// one tap back to oneself (the acting token dropped; the own one was kept all along). It
// follows the switch as it happens (a revoked grant ends acting mid-page).
const { session, switchBack, onActingChange } = require('../../utils/api')
const i18n = require('../../utils/i18n')

Component({
  data: { name: '', text: '', back: '' },
  lifetimes: {
    attached() { this.refresh(); this.unlisten = onActingChange(() => this.refresh()) },
    detached() { if (this.unlisten) this.unlisten() },
  },
  pageLifetimes: { show() { this.refresh() } },
  methods: {
    refresh() {
      const acting = session.acting
      const name = acting ? acting.person.name : ''
      this.setData({ name, text: name ? i18n.t('banner.acting', { name }) : '', back: i18n.t('banner.back') })
    },
    back() { switchBack() },
  },
})
