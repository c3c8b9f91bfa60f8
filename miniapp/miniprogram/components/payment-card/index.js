// 缴费: an application's fee (GET /api/v1/applications/{id}/payment) — the amount in 元, the
// items, when it is due, its state, a 减免 by rule — and paying it with WeChat Pay: the server
// gives wx.requestPayment's parameters (POST /api/v1/payments/{order}/wechat-jsapi, with an
// Idempotency-Key kept until it answers), WeChat takes the money, and the server hears of it
// from WeChat's notification, so the card asks again every second (up to 15 s) until the
// order says paid, then shows 已缴费 with the time and the 电子票据 in the wallet. Refunds
// (退款中, 已退回) show with their reason. The page hears `change` when the fee moved.
const { api, newIdempotencyKey, errorText } = require('../../utils/api')
const { fmtTime } = require('../../utils/format')
const i18n = require('../../utils/i18n')

const PAYABLE = ['unpaid', 'paying']
const POLL_MS = 1000
const CONFIRM_MS = 15000

const yuan = (fen) => (Number(fen || 0) / 100).toFixed(2)
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

Component({
  properties: {
    applicationId: { type: String, value: '' },
    fee: { type: Object, value: null },
  },
  // phase: '' | 'confirming' (paid in WeChat, waiting for the server to hear it) | 'slow' (not
  // heard within the wait) | 'cancelled' | 'failed' (message says why)
  data: { t: {}, o: null, stateName: '', canPay: false, payText: '', loading: false, error: '', phase: '',
    message: '', busy: false },
  observers: { 'applicationId, fee'() { this.sync() } },
  lifetimes: {
    attached() { this.key = newIdempotencyKey(); this.setData({ t: i18n.strings('payment') }); this.sync() },
    detached() { this.gone = true },
  },
  // back from 我的 → 语言: the words follow
  pageLifetimes: { show() { this.setData({ t: i18n.strings('payment') }); if (this.last) this.show(this.last) } },
  methods: {
    // the order is (re)loaded when the application's fee has moved (the page reloads it every
    // 15 s); not while a payment is being confirmed, which asks on its own
    sync() {
      const { applicationId: id, fee } = this.data
      if (!id || !fee || this.gone) return
      const seen = `${id}:${fee.state}`
      if (seen === this.seen) return
      this.seen = seen
      if (this.confirming) return
      if (fee.state === 'pending' || fee.state === 'not_due') { // being made, or charged once approved
        this.setData({ o: null, stateName: i18n.t(`payment.states.${fee.state}`), canPay: false, error: '' })
        return
      }
      this.load()
    },
    async load() {
      this.setData({ loading: !this.data.o, error: '' })
      try {
        this.show(await api.get(`/api/v1/applications/${this.data.applicationId}/payment`))
      } catch (e) {
        if (!this.data.o) this.setData({ error: errorText(e) })
      } finally { this.setData({ loading: false }) }
    },
    show(o) {
      this.last = o
      const s = i18n.strings('payment')
      const view = {
        id: o.id, state: o.state, amount: yuan(o.amount_fen), gross: yuan(o.gross_fen),
        reduced: o.gross_fen !== o.amount_fen,
        items: (o.items || []).map((i) => ({ name: i.name, amount: yuan(i.amount_fen) })),
        due: s.dues[o.due] || o.due_name, collector: o.collector || '', waiver: o.waiver ? o.waiver.name : '',
        paid: !!o.paid, paidAt: o.paid ? fmtTime(o.paid.at) : '', channel: o.paid ? o.paid.channel || '' : '',
        refunds: (o.refunds || []).map((r) => ({ amount: yuan(r.amount_fen), reason: r.reason,
          state: s.refundStates[r.state] || r.state_name, done: r.state === 'succeeded' })),
        receiptId: (o.receipt && o.receipt.certificate_id) || '',
        receiptNote: o.receipt && !o.receipt.certificate_id ? o.receipt.note || '' : '',
        receiptVoided: !!(o.receipt && o.receipt.voided),
      }
      const canPay = PAYABLE.includes(o.state)
      this.setData({ o: view, stateName: s.states[o.state] || o.state_name, canPay,
        payText: i18n.t('payment.pay', { amount: view.amount }),
        // a note about an attempt that no longer applies goes once the order has moved on
        ...(canPay ? {} : { phase: this.data.phase === 'confirming' ? 'confirming' : '', message: '' }) })
    },
    async pay() {
      const o = this.data.o
      if (!o || !this.data.canPay || this.data.busy) return
      this.setData({ busy: true, phase: '', message: '' })
      let answer
      try {
        // the same key until the server has answered: a retry after a lost answer is the same request
        answer = await api.create(`/api/v1/payments/${o.id}/wechat-jsapi`, {}, this.key)
        this.key = newIdempotencyKey()
      } catch (err) {
        if (err.status) this.key = newIdempotencyKey()
        this.setData({ busy: false })
        if (err.code === 'payment_not_payable') { // paid meanwhile (another phone), or no longer due
          await this.load()
          this.triggerEvent('change', { state: this.data.o && this.data.o.state })
          return
        }
        this.setData({ phase: 'failed', message: errorText(err) })
        return
      }
      const result = await new Promise((resolve) => {
        wx.requestPayment({
          ...answer.params,
          success: () => resolve({ ok: true }),
          fail: (e) => resolve({ ok: false, errMsg: (e && e.errMsg) || '' }),
        })
      })
      if (this.gone) return
      if (result.ok) { await this.confirm(); return }
      const cancelled = /cancel/i.test(result.errMsg)
      this.setData({ busy: false, phase: cancelled ? 'cancelled' : 'failed',
        message: i18n.t(cancelled ? 'payment.cancelled' : 'payment.failed') })
      await this.load() // a WeChat order now exists (支付中 on the server until it is paid or closed)
    },
    // paid in WeChat: ask until the server has heard (its receipt issued), at most CONFIRM_MS
    async confirm() {
      this.confirming = true
      this.setData({ busy: true, phase: 'confirming', message: '' })
      const path = `/api/v1/applications/${this.data.applicationId}/payment`
      const end = Date.now() + CONFIRM_MS
      let o = null
      for (;;) {
        try { o = await api.get(path) } catch (e) { /* a network blip: asked again */ }
        if (this.gone) return
        const settled = o && (o.state === 'paid' ? !!o.receipt : !PAYABLE.includes(o.state))
        if (settled || Date.now() >= end) break
        await sleep(POLL_MS)
        if (this.gone) return
      }
      this.confirming = false
      const done = !!o && !PAYABLE.includes(o.state)
      this.setData({ busy: false, phase: done ? '' : 'slow', message: done ? '' : i18n.t('payment.slow') })
      if (o) this.show(o)
      if (done) this.triggerEvent('change', { state: o.state })
    },
    receipt() { wx.navigateTo({ url: `/me/cert/index?id=${this.data.o.receiptId}` }) },
  },
})
