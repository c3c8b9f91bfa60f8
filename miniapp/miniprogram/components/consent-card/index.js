// A consent request from a kiosk or window: the holder approves item by item (all are
// ticked at first; untick what you do not want to give) or rejects it all.
const i18n = require('../../utils/i18n')

Component({
  properties: { consent: { type: Object, value: null } },
  data: { chosen: {}, count: 0, asks: '', purpose: '', reject: '', approveText: '' },
  observers: {
    consent(c) {
      const chosen = {}
      for (const it of (c && c.items) || []) if (it.state !== 'rejected') chosen[it.item] = true
      this.setData({ chosen, count: Object.keys(chosen).length })
      if (c) {
        this.setData({ asks: i18n.t('consent.asks', { name: (c.requester && c.requester.name) || i18n.t('consent.window') }),
          purpose: i18n.t('consent.purpose', { purpose: c.purpose }), reject: i18n.t('consent.reject') })
      }
    },
    count(count) { this.setData({ approveText: i18n.t('consent.approve', { count }) }) },
  },
  methods: {
    toggle(e) {
      const item = e.currentTarget.dataset.item
      const chosen = { ...this.data.chosen }
      if (chosen[item]) delete chosen[item]
      else chosen[item] = true
      this.setData({ chosen, count: Object.keys(chosen).length })
    },
    approve() {
      const items = this.data.consent.items.map((i) => i.item).filter((i) => this.data.chosen[i])
      if (items.length) this.triggerEvent('decide', { id: this.data.consent.id, action: 'approve', items })
    },
    reject() {
      this.triggerEvent('decide', { id: this.data.consent.id, action: 'reject', items: null })
    },
  },
})
