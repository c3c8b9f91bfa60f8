// 缴费 through the screens: a resident whose 驾驶证期满换证 (工本费 10 元, due at submission) is
// unpaid sees 待缴费 in the list and ¥10.00 in the application, presses 去支付, pays at WeChat
// Pay's H5 cashier (the development fake on loopback: 确认支付), comes back and sees 已缴费 with
// the 电子票据 in the wallet; back from the cashier without paying, it waits (支付中) and then says no
// result came. Inside WeChat's browser (no H5 payment there) a third application is paid with
// JSAPI through the official account: 去支付 goes through WeChat's silent authorisation (the fake
// WeChat) and /wechat/authorized back to the application, paying goes on by itself in WeChat's pay
// sheet (WeixinJSBridge, played here by the test), cancelled once, then paid; a spent
// authorisation, a refused one, a matter not payable in WeChat and the mini-program's web-view
// say so. The 公安局's clerk cannot 受理 the other, unpaid application (the
// server's sentence), accepts the paid one; the supervisor reconciles the day (对账) and a
// supervisor of a department without fees is told there is nothing to reconcile. axe and the
// 360 px layout on every screen reached, 适老化 on the payment section. Started by
// tests/superapp/test_e2e_h5.py (world.payer, world.staff['gaj.shouli' | 'gaj.shenhe' | 'ybj.shenhe'],
// world.wechat_api_url: the fake WeChat, world.wechatpay_url: the fake WeChat Pay).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { BASE, checked as screenChecks, json, launch, mobilePage, residentSession, staffSignIn, t, world } from './checks.mjs'

const LICENCE = '440100-GA-0031'
const WECHAT_UA = 'Mozilla/5.0 (Linux; Android 14; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 '
  + 'Mobile Safari/537.36 XWEB/1260117 MMWEBSDK/20240501 MicroMessenger/8.0.50.2701(0x28003253) NetType/WIFI Language/zh_CN'
// a Beijing day, whatever this machine's zone
const chinaDay = (daysBack = 0) => new Date(Date.now() + 8 * 3600_000 - daysBack * 86400_000).toISOString().slice(0, 10)
let browser

before(async () => {
  browser = await launch()
  if (world.screenshots) mkdirSync(world.screenshots, { recursive: true })
})
after(async () => { await browser?.close() })

// A session of its own for each browser context, so that no two of them ever rotate the same refresh
// token; the payer signs in several times in a row, each waiting its turn for a code.
const session = (person) => residentSession(person, { retries: 5 })

// A small phone, signed in with ``tokens`` if given.
function phone(tokens, { elder = false, userAgent, locale = 'zh-CN' } = {}) {
  return mobilePage(browser, { resident: tokens, elder, userAgent, locale })
}

async function staffLogin(page, s) {
  await page.goto('/staff/login')
  await staffSignIn(page, s)
  await page.waitForURL(/\/staff$/)
  await page.locator(`${t('queue')}, ${t('empty-state')}`).first().waitFor()
}

// checks.mjs's checks, and a photograph of the whole page when the world asks for them
async function checked(page, name, options) {
  await screenChecks(page, name, options)
  if (world.screenshots) await page.screenshot({ path: join(world.screenshots, `payments-${name}.png`), fullPage: true })
}

const text = async (locator) => (await locator.innerText()).replace(/\s+/g, ' ').trim()

// The page as WeChat's browser has it (the user agent is the caller's): the fake WeChat knows the
// browser as WeChat user e2ewxpayer, and WeixinJSBridge is there before the page's scripts run,
// its getBrandWCPayRequest played by the test: the parameters are kept (``calls``), the sheet is
// cancelled or, with ``answer = 'ok'``, paid at the fake WeChat Pay (POST /_fake/pay) as the
// person's confirmation in WeChat. ``visits``: every address the page itself went to.
async function inWeChat(page) {
  const sheet = { answer: 'cancel', calls: [], visits: [] }
  const ctx = page.context()
  await ctx.addCookies([{ name: 'fake_wechat_user', value: 'e2ewxpayer', url: world.wechat_api_url }])
  await ctx.exposeBinding('__wechatPaySheet', async (_source, params) => {
    sheet.calls.push(params)
    if (sheet.answer !== 'ok') return `get_brand_wcpay_request:${sheet.answer}`
    const r = await fetch(`${world.wechatpay_url}/_fake/pay`, { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ prepay_id: params.package.replace('prepay_id=', '') }) })
    return r.status === 200 ? 'get_brand_wcpay_request:ok' : 'get_brand_wcpay_request:fail'
  })
  await ctx.addInitScript(() => {
    window.WeixinJSBridge = {
      invoke(name, params, callback) {
        if (name !== 'getBrandWCPayRequest') { callback({ err_msg: `${name}:fail` }); return }
        window.__wechatPaySheet({ ...params }).then((errMsg) => callback({ err_msg: errMsg }))
      },
    }
  })
  page.on('request', (r) => { if (r.isNavigationRequest() && r.frame() === page.mainFrame()) sheet.visits.push(r.url()) })
  return sheet
}

test('payments: 待缴费 ¥10.00 paid at the H5 cashier, back to 已缴费 and the e-receipt; paid inside WeChat (JSAPI after the authorisation); the clerk accepts it (not the unpaid one); the supervisor reconciles', async () => {
  const payer = world.payer
  const page = await phone(await session(payer))

  // 我的办件: both applications say 待缴费
  await page.goto('/applications')
  const rowOf = (number) => page.locator(t(`application-${LICENCE}`)).filter({ hasText: number })
  await rowOf(payer.number).waitFor()
  assert.equal(await text(rowOf(payer.number).locator(t('fee-due'))), '待缴费')
  assert.equal(await text(rowOf(payer.unpaid_number).locator(t('fee-due'))), '待缴费')
  await checked(page, '我的办件（待缴费）')

  // the application: what is owed, to whom, when, and the button
  await rowOf(payer.number).click()
  await page.waitForURL(new RegExp(`/applications/${payer.application_id}$`))
  const fee = page.locator(t('payment'))
  const pay = fee.locator(t('pay'))
  await pay.waitFor()
  assert.equal(await fee.getAttribute('data-state'), 'unpaid')
  assert.equal(await text(fee.locator(t('payment-state'))), '待缴费')
  assert.match(await text(fee.locator(t('payment-amount'))), /¥10\.00/)
  assert.match(await text(fee.locator(t('payment-items'))), /机动车驾驶证工本费 ¥10\.00/)
  assert.match(await text(fee.locator(t('payment-due'))), /提交申请时缴纳/)
  assert.match(await text(fee.locator(t('payment-collector'))), /广州市公安局交通警察支队/)
  assert.equal(await text(pay), '去支付 ¥10.00')
  assert.equal(await fee.locator(t('pay-in-miniapp')).count(), 0, 'outside WeChat: no mini-program notice')
  await checked(page, '办件详情（待缴费）')

  // WeChat Pay's H5 cashier (the fake on loopback); leaving it without paying, the page waits
  // for WeChat's word (支付中, polled about 15 s), then says no result came and offers to pay again
  const backHere = (u) => u.origin === new URL(BASE).origin && u.pathname === `/applications/${payer.application_id}`
  await pay.click()
  await page.waitForURL(/\/cashier\?prepay_id=/)
  assert.ok(!page.url().startsWith(BASE), 'the cashier is WeChat Pay\'s page')
  assert.match(await page.locator('main').innerText(), /¥10\.00/)
  await page.getByRole('link', { name: '取消' }).click()
  await page.waitForURL(backHere)
  assert.equal(new URL(page.url()).searchParams.get('paid'), '1')
  const checking = fee.locator(t('payment-checking'))
  await checking.waitFor()
  assert.match(await text(checking), /支付中/)
  assert.equal(await text(fee.locator(t('payment-state'))), '支付中')
  await fee.locator(t('payment-unconfirmed')).waitFor({ timeout: 30000 })
  assert.match(await text(fee.locator(t('payment-unconfirmed'))), /还没有收到支付结果/)
  assert.equal(await text(pay), '去支付 ¥10.00')
  await checked(page, '办件详情（未收到支付结果）')
  // paying again: the same WeChat order, paid this time
  await pay.click()
  await page.waitForURL(/\/cashier\?prepay_id=/)
  await page.getByRole('button', { name: '确认支付' }).click()
  await page.waitForURL(backHere)
  // 支付中 while WeChat's notification comes in (polled), then 已缴费 with the e-receipt
  await page.locator(`${t('payment')}[data-state="paid"]`).waitFor({ timeout: 20000 })
  const receipt = fee.locator(t('payment-receipt'))
  await receipt.waitFor({ timeout: 20000 })
  assert.equal(await text(fee.locator(t('payment-state'))), '已缴费')
  assert.match(await text(fee.locator(t('payment-paid'))), /缴费时间.*\d{4}-\d{2}-\d{2} \d{2}:\d{2}/)
  assert.match(await text(receipt), /查看电子票据/)
  assert.equal(await fee.locator(t('pay')).count(), 0, 'nothing more to pay')
  assert.equal(await fee.locator(t('payment-checking')).count(), 0, 'no longer waiting')
  await page.waitForURL((u) => !u.searchParams.has('paid')) // the ?paid=1 of the way back is dropped once settled
  await checked(page, '办件详情（已缴费）')

  // the 电子票据 is a certificate in the wallet
  await receipt.click()
  await page.waitForURL(/\/wallet\/[^/]+$/)
  await page.locator(t('cert-detail')).waitFor()
  assert.match(await page.locator('h1').innerText(), /非税收入电子票据/)
  assert.match(await page.locator(t('cert-detail')).innerText(), /10\.00/)
  await checked(page, '电子票据')
  // the list: only the unpaid one still says 待缴费
  await page.goto('/applications')
  await rowOf(payer.unpaid_number).locator(t('fee-due')).waitFor()
  assert.equal(await rowOf(payer.number).locator(t('fee-due')).count(), 0)

  // 适老化: the payment section keeps large targets at 360 px
  const elder = await phone(await session(payer), { elder: true })
  await elder.goto(`/applications/${payer.unpaid_application_id}`)
  await elder.locator(`${t('payment')} ${t('pay')}`).waitFor()
  await checked(elder, '办件详情（待缴费，适老化）', { elder: true })
  await elder.goto(`/applications/${payer.application_id}`)
  await elder.locator(`${t('payment')} ${t('payment-receipt')}`).waitFor()
  await checked(elder, '办件详情（已缴费，适老化）', { elder: true })

  // inside WeChat's browser: JSAPI through the official account, for a third application
  const wx = await phone(await session(payer), { userAgent: WECHAT_UA })
  const sheet = await inWeChat(wx)
  await wx.goto(`/applications/${payer.wechat_application_id}`)
  const wxFee = wx.locator(t('payment'))
  const wxPay = wxFee.locator(t('pay'))
  await wxPay.waitFor()
  assert.equal(await text(wxPay), '去支付 ¥10.00')
  assert.equal(await wxFee.locator(t('pay-in-miniapp')).count(), 0, 'paid here, not sent to the mini-program')
  await checked(wx, '办件详情（微信内）')
  // the first 去支付: WeChat does not know this person's WeChat under the official account yet,
  // so the browser goes to WeChat's silent authorisation, comes back to /wechat/authorized and then
  // to the application, where paying goes on by itself: WeChat's pay sheet, cancelled
  const backInWeChat = (u) => u.origin === new URL(BASE).origin && u.pathname === `/applications/${payer.wechat_application_id}`
  await wxPay.click()
  const cancelled = wxFee.locator(t('pay-cancelled'))
  await cancelled.waitFor()
  assert.equal(await text(cancelled), '已取消支付，可再次点击支付')
  assert.equal(await cancelled.getAttribute('role'), 'status')
  await wx.waitForURL((u) => backInWeChat(u) && !u.searchParams.has('pay')) // ?pay=wechat is used once
  const authorize = sheet.visits.filter((u) => u.startsWith(`${world.wechat_api_url}/connect/oauth2/authorize?`))
  assert.equal(authorize.length, 1, `WeChat's authorisation, once: ${sheet.visits.join(' ')}`)
  assert.equal(new URL(authorize[0]).searchParams.get('scope'), 'snsapi_base')
  assert.ok(sheet.visits.some((u) => u.startsWith(`${BASE}/wechat/authorized?code=`)), 'back through /wechat/authorized')
  assert.equal(sheet.calls.length, 1, 'paying went on by itself after the authorisation')
  const [asked] = sheet.calls
  assert.deepEqual(Object.keys(asked).sort(), ['appId', 'nonceStr', 'package', 'paySign', 'signType', 'timeStamp'])
  assert.match(asked.appId, /^wx[0-9a-z]{16}$/)
  assert.match(asked.timeStamp, /^\d{10}$/)
  assert.match(asked.nonceStr, /^[0-9A-Za-z]{16,32}$/)
  assert.match(asked.package, /^prepay_id=\S+$/)
  assert.equal(asked.signType, 'RSA')
  assert.match(asked.paySign, /^[A-Za-z0-9+/]{300,}={0,2}$/)
  // still payable: the button, and the server says so
  assert.equal(await text(wxPay), '去支付 ¥10.00')
  const afterCancel = await json(`/api/v1/applications/${payer.wechat_application_id}/payment`,
    { token: await wx.evaluate(() => sessionStorage.getItem('resident.access')) })
  assert.ok(['unpaid', 'paying'].includes(afterCancel.state), afterCancel.state)
  assert.equal(await wxFee.locator(t('pay-error')).count(), 0)
  await checked(wx, '办件详情（微信内，已取消支付）')
  // 去支付 again: the WeChat is known now (no authorisation), the same WeChat order; paid in the
  // sheet, then 支付中 until the server hears from WeChat Pay, 已缴费 and the e-receipt
  sheet.answer = 'ok'
  await wxPay.click()
  await wx.locator(`${t('payment')}[data-state="paid"]`).waitFor({ timeout: 20000 })
  await wxFee.locator(t('payment-receipt')).waitFor({ timeout: 20000 })
  assert.equal(await text(wxFee.locator(t('payment-state'))), '已缴费')
  assert.match(await text(wxFee.locator(t('payment-receipt'))), /查看电子票据/)
  assert.equal(await wxFee.locator(t('pay')).count(), 0, 'nothing more to pay')
  assert.equal(sheet.calls.length, 2)
  assert.equal(sheet.calls[1].package, asked.package, 'the same WeChat order')
  assert.equal(sheet.visits.filter((u) => u.includes('/connect/oauth2/authorize')).length, 1, 'not authorised again')
  assert.ok(backInWeChat(new URL(wx.url())))
  await checked(wx, '办件详情（微信内，已缴费）')

  // /wechat/authorized with a state that is spent (or never was): no 重试, back to pay again
  await wx.goto(`/wechat/authorized?code=x&state=${'s'.repeat(20)}`)
  const expired = wx.locator(t('wechat-auth-expired'))
  await expired.waitFor()
  assert.match(await text(expired), /微信授权已失效.*请返回办件，重新点击支付.*返回办件重新支付/)
  assert.equal(await wx.locator(t('retry')).count(), 0, 'retrying a spent state cannot help')
  await checked(wx, '微信授权（已失效）')
  await expired.locator(t('wechat-auth-back')).click()
  await wx.waitForURL(/\/applications(\/[^/?]+)?$/)
  // WeChat's server not answering (stubbed): plain Chinese, 重试 and the way back to pay again;
  // 重试 with the real server then finds that state was never this person's
  await wx.route('**/api/v1/me/wechat-payer', (r) => r.fulfill({ status: 503, contentType: 'application/problem+json',
    body: JSON.stringify({ type: '/problems/wechat_unavailable', title: '服务暂时不可用', status: 503, code: 'wechat_unavailable',
      detail: '微信服务暂时不可用，请稍后重试', errors: [] }) }))
  await wx.goto(`/wechat/authorized?code=x&state=${'u'.repeat(20)}`)
  const unavailable = wx.locator(t('error-state'))
  await unavailable.waitFor()
  assert.match(await text(unavailable), /服务暂时繁忙.*重试/)
  assert.equal(await text(wx.locator(t('wechat-auth-back'))), '返回办件重新支付')
  await checked(wx, '微信授权（微信暂不可用）')
  await wx.unroute('**/api/v1/me/wechat-payer')
  await unavailable.locator(t('retry')).click()
  await wx.locator(t('wechat-auth-expired')).waitFor()
  // WeChat sent the person back without a code (they did not allow it)
  await wx.goto(`/wechat/authorized?state=${'s'.repeat(20)}`)
  const denied = wx.locator(t('wechat-auth-denied'))
  await denied.waitFor()
  assert.match(await text(denied), /没有完成微信授权.*返回办件重新支付/)
  await checked(wx, '微信授权（未授权）')
  // a matter not payable inside WeChat (no official account bound to its merchant): the server's
  // sentence, where to pay instead (the answer stubbed: this world's merchants are all bound)
  await wx.route('**/api/v1/payments/*/wechat-jsapi', (r) => r.fulfill({ status: 409, contentType: 'application/problem+json',
    body: JSON.stringify({ type: '/problems/payment_channel_unavailable', title: '操作与当前状态冲突', status: 409,
      code: 'payment_channel_unavailable', detail: '该事项暂不支持在微信内的网页缴费，请在“政务超级应用”小程序中缴费', errors: [] }) }))
  await wx.goto(`/applications/${payer.unpaid_application_id}`)
  await wxFee.locator(t('pay')).click()
  const closed = wxFee.locator(t('pay-in-miniapp'))
  await closed.waitFor()
  assert.equal(await text(closed), '该事项暂不支持在微信内的网页缴费，请在“政务超级应用”小程序中缴费')
  assert.equal(await wxFee.locator(t('pay')).count(), 0)
  assert.equal(sheet.calls.length, 2, 'no pay sheet')
  await checked(wx, '办件详情（微信内，不支持缴费）')
  await wx.unroute('**/api/v1/payments/*/wechat-jsapi')
  // the mini-program's web-view (WeChat too): the mini-program's own pages pay (适老化 here)
  const mini = await phone(await session(payer), { userAgent: WECHAT_UA, elder: true })
  await mini.context().addInitScript(() => { window.__wxjs_environment = 'miniprogram' })
  await mini.goto(`/applications/${payer.unpaid_application_id}`)
  const notice = mini.locator(`${t('payment')} ${t('pay-in-miniapp')}`)
  await notice.waitFor()
  assert.match(await notice.innerText(), /微信.*不能使用网页支付.*小程序/)
  assert.equal(await mini.locator(t('pay')).count(), 0, 'no 去支付 in the web-view')
  await checked(mini, '办件详情（小程序内，适老化）', { elder: true })
  await mini.goto(`/wechat/authorized?code=x&state=${'e'.repeat(20)}`)
  await mini.locator(t('wechat-auth-expired')).waitFor()
  await checked(mini, '微信授权（已失效，适老化）', { elder: true })

  // the 公安局's clerk: the queue says who paid; the unpaid one cannot be accepted; the paid one is
  const desk = await phone()
  await staffLogin(desk, world.staff['gaj.shouli'])
  const queued = (number) => desk.locator(t(`queue-${LICENCE}`)).filter({ hasText: number })
  await queued(payer.number).waitFor()
  assert.equal(await text(queued(payer.number).locator(t('fee-tag'))), '已缴费')
  assert.equal(await text(queued(payer.unpaid_number).locator(t('fee-tag'))), '待缴费')
  await checked(desk, '审批工作台（缴费）')
  await queued(payer.unpaid_number).click()
  await desk.waitForURL(new RegExp(`/staff/applications/${payer.unpaid_application_id}$`))
  await desk.locator(t('action-accept')).waitFor()
  assert.match(await text(desk.locator(t('staff-fee'))), /待缴费/)
  assert.match(await text(desk.locator(t('fee-blocks'))), /尚未缴费.*缴费后才能受理/)
  await desk.click(t('action-accept'))
  const refused = desk.locator(t('staff-action-error'))
  await refused.waitFor()
  assert.equal(await text(refused), '申请人尚未缴费，缴费后才能受理')
  assert.equal(await text(desk.locator(t('staff-state'))), '已提交', 'still waiting for the fee')
  await checked(desk, '办件审查（待缴费）')
  await desk.goto(`/staff/applications/${payer.application_id}`)
  await desk.locator(t('action-accept')).waitFor()
  assert.match(await text(desk.locator(t('staff-fee'))), /已缴费/)
  assert.match(await text(desk.locator(t('staff-fee'))), /¥10\.00 · 提交申请时缴纳/)
  assert.equal(await desk.locator(t('fee-blocks')).count(), 0)
  await desk.click(t('action-accept'))
  await desk.locator(t('action-approve')).waitFor()
  assert.equal(await text(desk.locator(t('staff-state'))), '审查中')
  assert.equal(await desk.locator(t('staff-action-error')).count(), 0)

  // the supervisor: 对账 of today (the payment above is in it), reached from the queue
  const boss = await phone()
  await staffLogin(boss, world.staff['gaj.shenhe'])
  await boss.click(t('go-reconciliation'))
  await boss.waitForURL(/\/staff\/reconciliation$/)
  assert.equal(await boss.locator(t('recon-date')).inputValue(), chinaDay(1), 'yesterday (Beijing) by default')
  await boss.fill(t('recon-date'), chinaDay())
  await boss.click(t('recon-check'))
  const merchant = boss.locator(t('recon-gz-psb'))
  await merchant.waitFor()
  assert.match(await text(merchant.locator('h2')), /广州市公安局交通警察支队/)
  assert.match(await text(merchant.locator(t('recon-ledger'))), /本平台流水 .*¥\d+\.\d{2}/)
  assert.match(await text(merchant.locator(t('recon-bill'))), /微信支付账单 .*¥\d+\.\d{2}/)
  await merchant.locator(`${t('recon-mismatches')}, ${t('recon-none')}`).first().waitFor()
  assert.ok(await boss.locator(t('recon-summary')).isVisible())
  await checked(boss, '缴费对账')
  // a refund WeChat did not complete is listed for the department to follow up (the report
  // as the server sends it, with one such refund added)
  await boss.route('**/api/v1/staff/payments/reconciliation?*', async (r) => {
    const resp = await r.fetch()
    const real = await resp.json()
    const merchants = real.merchants.map((m) => ({ ...m, failed_refunds: [{
      application_id: payer.application_id, number: payer.number, out_refund_no: 'po0R', amount_fen: 1000,
      reason: '申请已撤回，自动退款', at: Date.now() }] }))
    await r.fulfill({ response: resp, body: JSON.stringify({ ...real, merchants }) })
  })
  await boss.click(t('recon-check'))
  const failedRow = merchant.locator(t('recon-failed-refund'))
  await failedRow.waitFor()
  assert.match(await text(failedRow), new RegExp(`${payer.number}.*¥10\\.00.*申请已撤回`))
  await checked(boss, '缴费对账（退款未成功）')
  await boss.unroute('**/api/v1/staff/payments/reconciliation?*')

  // a supervisor whose department charges nothing: told so in plain Chinese
  const other = await phone()
  await staffLogin(other, world.staff['ybj.shenhe'])
  await other.goto('/staff/reconciliation')
  await other.click(t('recon-check'))
  const refusedRecon = other.locator(t('error-state'))
  await refusedRecon.waitFor()
  assert.match(await text(refusedRecon), /本部门没有收费事项，无须对账/)
  assert.match(await text(refusedRecon), /重试/)
  await checked(other, '缴费对账（无收费事项）')

  assert.deepEqual([...page.errors, ...elder.errors, ...wx.errors, ...mini.errors, ...desk.errors, ...boss.errors, ...other.errors], [])
  for (const p of [page, elder, wx, mini, desk, boss, other]) await p.context().close()
})

test('the payment section (and /wechat/authorized) in 繁體 and English: translated, fits 360 px (适老化 too), axe clean', async () => {
  const payer = world.payer
  const words = { 'zh-TW': { state: '待繳費', pay: '前往支付 ¥10.00', paid: '已繳費', back: '返回申請重新支付' },
    'en-US': { state: 'To pay', pay: 'Pay ¥10.00', paid: 'Paid', back: 'Back to the application to pay' } }
  for (const [locale, w] of Object.entries(words)) {
    for (const elder of [false, true]) {
      const page = await phone(await session(payer), { locale, elder })
      const name = `缴费（${locale}${elder ? '，适老化' : ''}）`
      await page.goto(`/applications/${payer.unpaid_application_id}`)
      const fee = page.locator(t('payment'))
      await fee.locator(t('pay')).waitFor()
      assert.equal(await text(fee.locator(t('payment-state'))), w.state, name)
      assert.equal(await text(fee.locator(t('pay'))), w.pay, name)
      await checked(page, name, { elder })
      await page.goto(`/applications/${payer.application_id}`)
      await fee.locator(t('payment-receipt')).waitFor()
      assert.equal(await text(fee.locator(t('payment-state'))), w.paid, name)
      await checked(page, `${name}（已缴费）`, { elder })
      // back from WeChat's authorisation with a spent state
      await page.goto(`/wechat/authorized?code=x&state=${'t'.repeat(20)}`)
      await page.locator(t('wechat-auth-expired')).waitFor()
      assert.equal(await text(page.locator(t('wechat-auth-back'))), w.back, name)
      await checked(page, `微信授权（${locale}${elder ? '，适老化' : ''}）`, { elder })
      assert.deepEqual(page.errors, [])
      await page.context().close()
    }
  }
})

test('the payment section shows a waiver and its rule, and refunds (退款中, 已退回 with the reason), as the server reports them', async () => {
  const payer = world.payer
  const tokens = await session(payer)
  const real = await json(`/api/v1/applications/${payer.application_id}/payment`, { token: tokens.access })
  const refund = { amount_fen: 1000, reason: '申请未获批准，自动退款' }
  const orders = [
    [{ ...real, state: 'waived', state_name: '已减免', amount_fen: 0, waiver: { name: '年满70周岁免收' }, paid: null, receipt: null }, async (fee) => {
      assert.match(await text(fee.locator(t('payment-waiver'))), /符合减免规则：年满70周岁免收/)
      assert.match(await text(fee.locator(t('payment-amount'))), /原应缴 ¥10\.00.*¥0\.00/)
    }],
    [{ ...real, state: 'refunding', state_name: '退款中', refunds: [{ ...refund, state: 'processing', state_name: '退款处理中' }] }, async (fee) => {
      assert.match(await text(fee.locator(t('payment-refund-processing'))), /退款 退款中 · 申请未获批准，自动退款 ¥10\.00/)
    }],
    [{ ...real, state: 'refunded', state_name: '已退款', refunds: [{ ...refund, state: 'succeeded', state_name: '已退回' }],
      receipt: { ...real.receipt, voided: true } }, async (fee) => {
      assert.match(await text(fee.locator(t('payment-refund-succeeded'))), /已退回 · 申请未获批准，自动退款/)
      assert.match(await text(fee.locator(t('payment-receipt'))), /电子票据已作废（费用已退回）/)
    }],
  ]
  const page = await phone(tokens)
  const path = `**/api/v1/applications/${payer.application_id}/payment`
  for (const [order, check] of orders) {
    await page.route(path, (r) => r.fulfill({ status: 200, contentType: 'application/json', body: JSON.stringify(order) }))
    await page.goto(`/applications/${payer.application_id}`)
    const fee = page.locator(`${t('payment')}[data-state="${order.state}"]`)
    await fee.waitFor()
    assert.equal(await text(fee.locator(t('payment-state'))), order.state_name)
    assert.equal(await fee.locator(t('pay')).count(), 0, `${order.state}: nothing to pay`)
    await check(fee)
    await checked(page, `缴费（${order.state_name}）`)
    await page.unroute(path)
  }
  // a failing request: plain Chinese and 重试, which recovers
  await page.route(path, (r) => r.fulfill({ status: 503, contentType: 'application/problem+json', body: JSON.stringify({
    type: '/problems/service_unavailable', title: '服务暂时不可用', status: 503, code: 'service_unavailable', detail: '服务暂时不可用', errors: [] }) }))
  await page.goto(`/applications/${payer.application_id}`)
  const failed = page.locator(`${t('payment')} ${t('error-state')}`)
  await failed.waitFor()
  assert.match(await text(failed), /服务暂时繁忙.*重试/)
  await checked(page, '缴费（加载失败）')
  await page.unroute(path)
  await failed.locator(t('retry')).click()
  await page.locator(`${t('payment')}[data-state="paid"] ${t('payment-receipt')}`).waitFor()
  assert.deepEqual(page.errors, [])
  await page.context().close()
})
