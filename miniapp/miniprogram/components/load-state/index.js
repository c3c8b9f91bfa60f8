// What a data page shows while it is not showing data: a loading line, the error in plain
// Chinese with 重试 (the page's `retry` event), or the empty state with its next action
// (the page's `action` event). The page's own content goes in the slot, shown when ready.
const i18n = require('../../utils/i18n')

Component({
  options: { multipleSlots: false },
  properties: {
    loading: { type: Boolean, value: false },
    error: { type: String, value: '' },
    empty: { type: Boolean, value: false },
    emptyText: { type: String, value: '' },
    actionText: { type: String, value: '' },
  },
  data: { t: {} },
  lifetimes: { attached() { this.setData({ t: i18n.strings('loadState') }) } },
  pageLifetimes: { show() { this.setData({ t: i18n.strings('loadState') }) } },
  methods: {
    retry() { this.triggerEvent('retry') },
    action() { this.triggerEvent('action') },
  },
})
