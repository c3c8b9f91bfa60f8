// 缴费 on the application page against the real backend (tests/superapp/test_miniapp.py started
// it; tests/payments/support.py payment_world made the world): a resident logged in with WeChat
// whose 驾驶证期满换证 waits for its 工本费 sees ¥10.00, the item, when it is due and 待缴费;
// cancelling WeChat's payment sheet says 已取消支付 (no error, nothing paid); another failure
// says so in plain words with 重试; paying — wx.requestPayment stood in by what WeChat does:
// the payer confirms at the fake WeChat Pay on loopback (POST /_fake/pay {prepay_id}), which
// notifies the server, then success — shows 支付中 until the server has heard, then 已缴费 with
// the time and 查看电子票据 (the receipt in the wallet). A fee refunded after a denial shows
// 已退回 with its reason; on a 繁體 phone the card is in Traditional characters.
const fs = require('fs')
const http = require('http')
const { wx, store, calls } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const P = world.payments
const toasts = () => calls.filter((c) => c[0] === 'showToast').map((c) => c[1])
const orderOf = (id) => api.get(`/api/v1/applications/${id}/payment`)

// (the simulator's wx, which the pages and components call, took ours in: the stand-in goes on it)
const simulated = () => global.wx
const simulatorsPayment = simulated().requestPayment
function stand(fn) { simulated().requestPayment = fn }

afterEach(() => {
  detachAll()
  simulated().requestPayment = simulatorsPayment
  wx.systemLanguage = 'zh_CN'
})

function as(who) {
  store.delete('superapp.acting')
  store.set('superapp.access', who.access_token)
  store.set('superapp.refresh', who.refresh_token)
}

// JSON to the fake WeChat Pay: {status, body}
function post(url, body) {
  return new Promise((resolve, reject) => {
    const data = Buffer.from(JSON.stringify(body))
    const req = http.request(url, { method: 'POST', headers: { 'Content-Type': 'application/json', 'Content-Length': data.length } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString('utf8') || 'null') }))
    })
    req.on('error', reject)
    req.end(data)
  })
}

// wx.requestPayment as WeChat does it: the sheet shows, the payer confirms (the fake WeChat Pay
// takes the money and notifies the server: 200 with the transaction, 409 when already paid),
// then success — or fail, as WeChat says it
function wechatPays(seen) {
  stand((o) => {
    seen.params.push(o)
    const prepayId = String(o.package).split('prepay_id=')[1]
    post(`${P.wechatpay_url}/_fake/pay`, { prepay_id: prepayId }).then((r) => {
      seen.answers.push(r.status)
      if (r.status === 200) o.success({ errMsg: 'requestPayment:ok' })
      else o.fail({ errMsg: `requestPayment:fail ${r.body && r.body.message}` })
    }, (e) => o.fail({ errMsg: `requestPayment:fail ${e.message}` }))
  })
}

// the page with its 缴费 card loaded; every setData of the card leaves the page's text in shown
async function open(id) {
  const page = renderPage('affairs/application', { id })
  await page.instance.ready
  await until(() => page.querySelector('#payment') && page.querySelector('#payment').data.o, 'the fee')
  const card = page.querySelector('#payment')
  const shown = []
  const setData = card.instance.setData.bind(card.instance)
  card.instance.setData = (d, cb) => { setData(d, cb); shown.push(text(page)) }
  return { page, card, shown }
}

test('the fee on the application page: ¥10.00, its item, when it is due, 待缴费 and 微信支付 ¥10.00', async () => {
  as(P)
  const before = toasts().length
  const { page, card } = await open(P.application_id)
  expect(page.data.a.fee.order_id).toBe(P.order_id)
  const shown = text(page)
  for (const words of ['缴费', '应缴金额', '¥10.00', '收费项目', '机动车驾驶证工本费 ¥10.00', '缴纳时间', '提交申请时缴纳',
    '待缴费', '执收单位', '广州市公安局交通警察支队', '微信支付 ¥10.00']) expect(shown).toContain(words)
  expect(shown).not.toContain('已缴费')
  expect(card.data.canPay).toBe(true)
  expect(toasts().slice(before)).toEqual([]) // no error
})

test('cancelling WeChat\'s payment sheet says 已取消支付, no error, nothing paid', async () => {
  as(P)
  const before = toasts().length
  const { page, card } = await open(P.application_id)
  const params = []
  stand((o) => { params.push(o); o.fail({ errMsg: 'requestPayment:fail cancel' }) })
  await card.instance.pay()
  // exactly what wx.requestPayment takes, from the server
  expect(params).toHaveLength(1)
  expect(Object.keys(params[0]).filter((k) => typeof params[0][k] === 'string').sort())
    .toEqual(['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'])
  expect(params[0].package).toMatch(/^prepay_id=\S+$/)
  expect(params[0].signType).toBe('RSA')
  expect(card.data.phase).toBe('cancelled')
  const shown = text(page)
  expect(shown).toContain('已取消支付')
  expect(shown).toContain('微信支付 ¥10.00') // may pay again
  expect(shown).not.toContain('支付未完成')
  expect(shown).not.toContain('已缴费')
  expect(toasts().slice(before)).toEqual([])
  expect(['unpaid', 'paying']).toContain((await orderOf(P.application_id)).state)
})

test('another failure of WeChat\'s sheet: plain words and 重试', async () => {
  as(P)
  const { page, card } = await open(P.application_id)
  stand((o) => o.fail({ errMsg: 'requestPayment:fail 系统错误' }))
  await card.instance.pay()
  expect(card.data.phase).toBe('failed')
  expect(text(page)).toContain('支付未完成，请重试')
  expect(text(page)).toContain('重试')
  expect(text(page)).not.toContain('fail')
  expect(['unpaid', 'paying']).toContain((await orderOf(P.application_id)).state)
})

test('paying: WeChat takes the money, the page shows 支付中 until the server has heard, then 已缴费 and the 电子票据', async () => {
  as(P)
  const { page, card, shown } = await open(P.application_id)
  const seen = { params: [], answers: [] }
  wechatPays(seen)
  // pressed as a person does: the button on the card
  expect(card.querySelector('.pay').dom.textContent).toContain('微信支付 ¥10.00')
  card.querySelector('.pay').querySelector('.van-button').dispatchEvent('tap')
  await until(() => card.data.o.state === 'paid' && card.data.phase === '', '已缴费', 20000)
  expect(seen.answers).toEqual([200]) // the fake WeChat Pay took it once
  expect(shown.some((s) => s.includes('支付中，正在确认支付结果…'))).toBe(true)
  const final = text(page)
  expect(final).toContain('已缴费')
  expect(final).toMatch(/已缴费 \d{4}-\d{2}-\d{2} \d{2}:\d{2}/)
  expect(final).toContain('微信支付（小程序）')
  expect(final).toContain('查看电子票据')
  expect(final).not.toContain('微信支付 ¥10.00')
  expect(final).not.toContain('已取消支付')
  // the server says so: paid, with the receipt in the wallet
  const order = await orderOf(P.application_id)
  expect(order.state).toBe('paid')
  expect(order.paid.transaction_id).toMatch(/^42/)
  expect(order.receipt.certificate_id).toBeTruthy()
  expect(card.data.o.receiptId).toBe(order.receipt.certificate_id)
  // the application page took the change too
  await until(() => page.data.a.fee.state === 'paid', 'the application\'s fee')
  // WeChat would not take it twice
  expect((await post(`${P.wechatpay_url}/_fake/pay`, { prepay_id: seen.params[0].package.split('prepay_id=')[1] })).status).toBe(409)

  card.instance.receipt()
  expect(calls[calls.length - 1]).toEqual(['navigateTo', `/me/cert/index?id=${order.receipt.certificate_id}`])
  page.detach()
  const cert = renderPage('me/cert', { id: order.receipt.certificate_id })
  await cert.instance.ready
  await until(() => cert.data.cert, 'the receipt')
  expect(text(cert)).toContain('非税收入电子票据')
  expect(text(cert)).toContain('10.00')
})

test('a fee refunded after a denial: 已退款, 已退回 with the reason, no pay button', async () => {
  as(P.refunded)
  const { page } = await open(P.refunded.application_id)
  const shown = text(page)
  expect(shown).toContain('已退款')
  expect(shown).toMatch(/已退回 ?¥10\.00/)
  expect(shown).toContain('申请未获批准，自动退款')
  expect(shown).toContain('查看电子票据')
  expect(shown).toContain('电子票据已作废（费用已退回）') // revoked by the department once the money went back
  expect(shown).not.toContain('微信支付 ¥')
})

test('on a 繁體 phone the card is in Traditional characters', async () => {
  as(P)
  wx.systemLanguage = 'zh_TW'
  const { page } = await open(P.application_id)
  const shown = text(page)
  for (const words of ['繳費', '應繳金額', '¥10.00', '收費項目', '繳納時間', '提交申請時繳納', '已繳費', '查看電子票據']) expect(shown).toContain(words)
  expect(shown).not.toContain('查看电子票据')
})
