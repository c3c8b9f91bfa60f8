// A consent request from a kiosk or window: the holder approves item by item (all are
// ticked at first; untick what you do not want to give) or rejects it all.
Component({
  properties: { consent: { type: Object, value: null } },
  data: { chosen: {}, count: 0 },
  observers: {
    consent(c) {
      const chosen = {}
      for (const it of (c && c.items) || []) if (it.state !== 'rejected') chosen[it.item] = true
      this.setData({ chosen, count: Object.keys(chosen).length })
    },
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
