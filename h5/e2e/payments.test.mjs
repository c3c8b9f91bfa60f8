// 缴费 through the screens: a resident whose 驾驶证期满换证 (工本费 10 元, due at submission) is
// unpaid sees 待缴费 in the list and ¥10.00 in the application, presses 去支付, pays at WeChat
// Pay's H5 cashier (the development fake on loopback: 确认支付), comes back and sees 已缴费 with
// the 电子票据 in the wallet. Inside WeChat's browser there is no H5 payment: the page says to
// pay in the mini-program; back from the cashier without paying, it waits (支付中) and then says no
// result came. The 公安局's clerk cannot 受理 the other, unpaid application (the
// server's sentence), accepts the paid one; the supervisor reconciles the day (对账) and a
// supervisor of a department without fees is told there is nothing to reconcile. axe and the
// 360 px layout on every screen reached, 适老化 on the payment section. Started by
// tests/superapp/test_e2e_h5.py (world.payer, world.staff['gaj.shouli' | 'gaj.shenhe' | 'ybj.shenhe']).
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

test('payments: 待缴费 ¥10.00 paid at the H5 cashier, back to 已缴费 and the e-receipt; the clerk accepts it (not the unpaid one); the supervisor reconciles', async () => {
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

  // inside WeChat's browser: no H5 payment, the page says to pay in the mini-program
  const wx = await phone(await session(payer), { userAgent: WECHAT_UA })
  await wx.goto(`/applications/${payer.unpaid_application_id}`)
  const notice = wx.locator(`${t('payment')} ${t('pay-in-miniapp')}`)
  await notice.waitFor()
  assert.match(await notice.innerText(), /微信.*不能使用网页支付.*小程序/)
  assert.equal(await wx.locator(t('pay')).count(), 0, 'no 去支付 inside WeChat')
  await checked(wx, '办件详情（微信内）')

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

  assert.deepEqual([...page.errors, ...elder.errors, ...wx.errors, ...desk.errors, ...boss.errors, ...other.errors], [])
  for (const p of [page, elder, wx, desk, boss, other]) await p.context().close()
})

test('the payment section in 繁體 and English: translated, fits 360 px (适老化 too), axe clean', async () => {
  const payer = world.payer
  const words = { 'zh-TW': { state: '待繳費', pay: '前往支付 ¥10.00', paid: '已繳費' }, 'en-US': { state: 'To pay', pay: 'Pay ¥10.00', paid: 'Paid' } }
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
