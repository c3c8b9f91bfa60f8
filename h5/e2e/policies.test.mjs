// 政策兑现 / 免申即享 through the screens: a mother whose baby's 出生医学证明 is in her wallet
// sees the 育儿补贴 under 我可享受 with the reason, confirms it with a bank card (a mistyped
// one is caught before anything is sent), the 卫健委's policy staff approve it in their
// console (StaffLogin sends policy-only staff there), the development fake bank pays and calls
// back, and she sees 已发放. axe at 360 px on every screen reached. Started by
// tests/superapp/test_e2e_h5.py (world.policy_parent, world.staff['wjw.zhengce']).
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { checked, input, launch, mobilePage, residentSession, staffSignIn, t, world } from './checks.mjs'

const YUER = 'gz-yebt-2026'
const GOOD_CARD = '6222020200112233446' // passes Luhn
const BAD_CARD = '6222020200112233445' // one check digit off
let browser

before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

// A small phone, signed in with ``tokens`` if given (适老化 off then); the paths of the POSTs it sends.
async function phone(tokens) {
  const page = await mobilePage(browser, tokens ? { resident: tokens, elder: false } : {})
  page.posts = []
  page.on('request', (r) => { if (r.method() === 'POST') page.posts.push(new URL(r.url()).pathname) })
  return page
}

test('policies: 我可享受 with the reason, confirmed with a bank card (a wrong one caught first), approved by the department, paid by the bank', async () => {
  const mum = world.policy_parent
  const page = await phone(await residentSession(mum))

  // the entry on the home screen
  await page.goto('/')
  await page.click(t('go-policies'))
  await page.waitForURL(/\/policies$/)
  const row = page.locator(t(`eligible-${YUER}`))
  await row.waitFor()
  assert.match(await row.locator(t('reason')).innerText(), /因为您符合：.*出生医学证明/)
  // not eligible ones are there, collapsed, each with what is not met
  assert.ok(await page.locator(t('not-eligible')).count(), 'the not-eligible group')
  assert.equal(await page.locator(t('not-gz-gljt-2026')).isVisible(), false, 'collapsed')
  await page.click(`${t('not-eligible')} .van-collapse-item__title`)
  await page.locator(t('not-gz-gljt-2026')).waitFor()
  assert.match(await page.locator(t('not-gz-gljt-2026')).innerText(), /不符合：年满 80 周岁/)
  await checked(page, '我可享受')

  // the detail: what it is, the rules in words, the confirm form
  await row.click()
  await page.waitForURL(new RegExp(`/policies/${YUER}$`))
  await page.locator(t('confirm-form')).waitFor()
  const detail = await page.locator(t('policy-detail')).innerText()
  assert.match(detail, /育儿补贴/)
  assert.match(detail, /卫生健康委员会/)
  assert.match(detail, /3600/)
  assert.match(await page.locator(t('policy-rules')).innerText(), /子女未满 3 周岁\s*符合/)
  assert.equal(await page.locator(input('account-name')).inputValue(), mum.name, 'the account name from the holder')
  await checked(page, '政策详情（确认领取）')

  // a mistyped card: caught on the phone, nothing sent
  await page.fill(input('bank-account'), BAD_CARD)
  await page.click(t('confirm-claim'))
  const message = page.locator(`${t('bank-account')} .van-field__error-message`)
  await message.waitFor()
  assert.match(await message.innerText(), /银行卡号有误/)
  assert.deepEqual(page.posts.filter((p) => p.endsWith('/claims')), [], 'nothing sent with a wrong card')
  await page.fill(input('bank-account'), GOOD_CARD)
  assert.equal(await message.count(), 0, 'the corrected field loses its message')
  await page.click(t('confirm-claim'))
  const status = page.locator(t('claim-status'))
  await status.waitFor()
  assert.equal(await status.getAttribute('data-state'), 'confirmed')
  assert.match(await status.innerText(), /等待.*卫生健康委员会审核/)
  assert.equal(await page.locator(t('claim-account')).locator('.van-cell__value').innerText(), '6222 **** **** 3446')
  assert.ok(!(await page.content()).includes(GOOD_CARD), 'the card number is shown masked only')
  assert.equal(await page.locator(t('confirm-form')).count(), 0, 'no second confirmation')
  await checked(page, '政策详情（待审核）')

  // the department: policy-only staff land on the review console
  const s = world.staff['wjw.zhengce']
  const desk = await phone()
  await desk.goto('/staff/login')
  await staffSignIn(desk, s)
  await desk.waitForURL(/\/staff\/policies$/)
  await desk.locator(t('policy-claims')).waitFor()
  const mine = desk.locator('[data-test^="pc-"]', { hasText: '3 周岁以下婴幼儿育儿补贴' }).filter({ hasText: '3446' }).first()
  await mine.waitFor()
  const id = (await mine.getAttribute('data-test')).slice(3)
  await checked(desk, '政策兑现审核')
  await desk.check(t(`pick-${id}`))
  await desk.click(t('approve-selected'))
  await desk.locator(t('action-done')).waitFor()
  assert.match(await desk.locator(t('action-done')).innerText(), /已通过 1 件/)
  // the bank pays and calls back: the claim is paid
  await desk.click(t('pstate-all'))
  await desk.locator(`${t(`pc-${id}`)}[data-state="paid"]`).waitFor({ timeout: 20000 }).catch(async () => {
    await desk.click(t('pstate-all')) // the list polls; ask once more
    await desk.locator(`${t(`pc-${id}`)}[data-state="paid"]`).waitFor({ timeout: 10000 })
  })

  // the resident sees it paid, with a plain sentence
  await page.reload()
  await status.waitFor()
  assert.equal(await status.getAttribute('data-state'), 'paid')
  assert.match(await status.innerText(), /已发放/)
  await checked(page, '政策详情（已发放）')
  await page.goto('/policies')
  await page.locator(t(`claim-${YUER}`)).waitFor()
  assert.equal(await page.locator(t(`claim-${YUER}`)).locator(t('claim-state')).innerText(), '已发放')
  assert.deepEqual([...page.errors, ...desk.errors], [])
})
