// Journeys 1-4 of PRODUCT.md through the H5 screens, in Debian's Chromium driven by
// playwright-core. Started by tests/superapp/test_e2e_h5.py, which runs the app on the embedded
// servers and writes the world (registries, pre-issued certificates) to $E2E_WORLD.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { BASE, axe, launch, mobilePage, staffSignIn, t, world } from './checks.mjs'

const ID_CARD = '11100000000013338W001'
const HUKOU = '11100000000013338W002'
const RESIDENCE = '11100000000013338W021'
const PROPERTY = '11100000MB1967002C001'
const BIRTH = '11100000000019297M001'
const TIMEOUT = 15000

let browser
const PDF = { name: '证明.pdf', mimeType: 'application/pdf', buffer: Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n') }
const PNG = {
  name: '照片.png', mimeType: 'image/png',
  buffer: Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'),
}

before(async () => {
  browser = await launch()
  if (world.screenshots) mkdirSync(world.screenshots, { recursive: true })
})
after(async () => { await browser?.close() })

// A larger phone than the other files' (390 × 844), signed out, 适老化 as the app has it.
const phone = () => mobilePage(browser, { width: 390, height: 844 })
async function desktop() {
  const ctx = await browser.newContext({ baseURL: BASE, viewport: { width: 1280, height: 860 }, locale: 'zh-CN' })
  ctx.setDefaultTimeout(TIMEOUT)
  return ctx.newPage()
}
// Every screen a journey photographs is also checked by axe: no critical or serious violation.
async function shot(page, name) {
  await page.locator('.van-toast').waitFor({ state: 'hidden' }).catch(() => {})
  await axe(page, name)
  if (!world.screenshots) return
  await page.waitForFunction(() => [...document.images].every((i) => i.complete), null, { timeout: 5000 }).catch(() => {})
  await page.waitForTimeout(300) // let the last click's re-render settle
  await page.screenshot({ path: join(world.screenshots, `${name}.png`) })
}
// the field's input or textarea (checks.mjs's ``input`` is the input only): the forms here have both
const input = (name) => `[data-test="${name}"] input, [data-test="${name}"] textarea`

async function latestSms(phoneNumber) {
  const r = await fetch(`${BASE}/api/v1/dev/sms-outbox?phone=${phoneNumber}`)
  const body = await r.json()
  return body.items[0].params.code
}

// SMS login then real-name verification, through the screens
async function signUp(page, person) {
  await page.goto('/')
  await page.waitForURL(/\/login/)
  await page.fill(input('phone'), person.phone)
  await page.locator(t('agreement-user')).waitFor() // the agreements are shown before anything is sent
  await page.click(t('agree'))
  await page.click(t('send'))
  await page.getByText('验证码已发送').waitFor()
  await page.fill(input('code'), await latestSms(person.phone))
  await page.click(t('login'))
  await page.waitForURL((u) => u.pathname === '/')
  await page.click(t('go-realname'))
  await page.fill(input('name'), person.name)
  await page.fill(input('id-number'), person.id_number)
  await page.click(t('verify'))
  await page.locator(t('person-code')).waitFor()
}

async function staffLogin(page, s, ready = 'queue') {
  await page.goto('/staff')
  await page.waitForURL(/\/staff\/login/)
  await staffSignIn(page, s)
  await page.locator(`${t(ready)}, ${t('empty-state')}`).first().waitFor()
}

let residentPage

test('journey 1: sign up, verify real name (L2), the wallet already holds certificates issued earlier', async () => {
  const page = await phone()
  residentPage = page
  await page.goto('/')
  await page.waitForURL(/\/login/)
  await shot(page, '01-login')
  await signUp(page, world.resident)
  assert.match(await page.locator(t('level')).innerText(), /L2|实名/)
  assert.ok((await page.locator(t('short-code')).innerText()).length >= 6)
  await shot(page, '02-person-code')

  await page.click('text=卡包')
  await page.waitForURL(/\/wallet$/)
  for (const type of [ID_CARD, HUKOU, PROPERTY, BIRTH]) {
    const cell = page.locator(t(`cert-${type}`))
    await cell.waitFor()
    assert.equal(await cell.locator(t('cert-status')).innerText(), '有效')
  }
  await shot(page, '03-wallet')

  // certificate detail: sensitive fields masked, verified signature; 亮证 with a purpose
  await page.click(t(`cert-${ID_CARD}`))
  await page.locator(t('cert-detail')).waitFor()
  assert.equal(await page.locator(t('cert-verified')).locator('.van-cell__value').innerText(), '真实有效')
  assert.ok(!(await page.locator(t('cert-detail')).innerText()).includes(world.resident.id_number), 'ID number masked')
  await page.fill(input('share-purpose'), '入住酒店登记')
  await page.click(t('share'))
  const qr = page.locator(t('share-qr'))
  await qr.waitFor()
  // whoever scans the share QR gets exactly what was chosen, verified
  const token = (await qr.getAttribute('data-url')).split('/').pop()
  const verified = await (await fetch(`${BASE}/api/v1/verify/shares/${token}`)).json()
  assert.equal(verified.purpose, '入住酒店登记')
  assert.equal(verified.verification.valid, true)
  // a hotel clerk's ordinary phone camera opens the link: a page people read, not JSON
  const clerk = await phone()
  await clerk.goto(await qr.getAttribute('data-url'))
  const verdict = clerk.locator(t('verify-verdict'))
  await verdict.waitFor()
  assert.match(await verdict.innerText(), /核验通过/)
  assert.match(await clerk.locator(t('verify-purpose')).innerText(), /入住酒店登记/)
  assert.match(await clerk.locator(t('verify-issuer')).innerText(), /广州市公安局/)
  await shot(clerk, '04b-verify-page')
  await clerk.context().close()
  await shot(page, '04-certificate-share')

  // 360 px wide, elder mode: nothing spills sideways
  await page.setViewportSize({ width: 360, height: 740 })
  await page.goto('/mine')
  await page.click(t('elder-switch'))
  await page.goto('/wallet')
  await page.locator(t(`cert-${ID_CARD}`)).waitFor()
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert.ok(overflow <= 0, `horizontal overflow of ${overflow}px at 360px in elder mode`)
  const size = await page.locator(`${t(`cert-${ID_CARD}`)} .van-cell__title`).evaluate((el) => parseFloat(getComputedStyle(el).fontSize))
  assert.ok(size >= 20, `elder mode font size ${size}`)
  await shot(page, '05-elder-mode-360')
  await page.goto('/mine')
  await page.click(t('elder-switch'))
  await page.setViewportSize({ width: 390, height: 844 })
})

let kioskPage

// the device's provisioning file, as the hall's administrator receives it with the kiosk
async function provisionKiosk(page, idleSeconds) {
  await page.goto('/kiosk')
  await page.locator(t('device-id')).waitFor()
  const config = { device_id: world.device.id, private_key_pem: world.device.private_key_pem, idle_seconds: idleSeconds }
  await page.setInputFiles(t('device-config'), { name: 'kiosk-th-01.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(config)) })
  await page.locator(`${t('kiosk')}[data-state="idle"]`).waitFor()
}

test('journey 2: the kiosk scans the code, asks for two certificates, the resident consents item by item on the phone', async () => {
  const kiosk = await desktop()
  kioskPage = kiosk
  await provisionKiosk(kiosk, 12)
  await shot(kiosk, '06-kiosk-idle')

  await residentPage.goto('/')
  const code = await residentPage.locator(t('person-code')).getAttribute('data-code')
  assert.match(code, /^SA1:/)
  // a USB scanner types the code and presses Enter into the focused page
  await kiosk.keyboard.type(code)
  await kiosk.keyboard.press('Enter')
  const holder = kiosk.locator(t('holder'))
  await holder.waitFor()
  const shown = await holder.innerText()
  assert.ok(!shown.includes(world.resident.name), 'the kiosk shows the name masked')
  assert.ok(shown.includes(`${world.resident.name[0]}***`))
  // the phone is told at once
  await residentPage.locator(t('feed-item'), { hasText: world.device.name }).first().waitFor()
  await shot(kiosk, '07-kiosk-holder')

  await kiosk.click(t('kiosk-matter-440100-MZ-0005')) // 补领结婚证: ID card + household register
  await kiosk.locator(t('waiting')).waitFor()

  const card = residentPage.locator('[data-test^="consent-c"]').first()
  await card.waitFor()
  assert.ok((await card.innerText()).includes('办理补领结婚证'))
  await shot(residentPage, '08-consent-request')
  await card.locator(t('consent-approve')).click()

  for (const type of [ID_CARD, HUKOU]) {
    const fig = kiosk.locator(t(`delivered-certificate:${type}`))
    await fig.waitFor()
    assert.ok((await fig.innerText()).includes('仅供“办理补领结婚证”使用'), 'watermarked with the purpose')
    assert.ok((await fig.innerText()).includes('验证通过'))
    await fig.locator('img').evaluate((img) => img.complete && img.naturalWidth > 0 || new Promise((ok, no) => { img.onload = ok; img.onerror = no }))
    assert.ok(await fig.locator('img').evaluate((img) => img.naturalWidth > 300), 'the certificate image loaded')
  }
  await shot(kiosk, '09-kiosk-certificates')

  // 用证记录 on the phone shows the use, by whom and what for
  await residentPage.goto('/mine')
  const usage = residentPage.locator(t('usage-item'), { hasText: '办理补领结婚证' })
  await usage.first().waitFor()
  assert.ok((await usage.first().innerText()).includes(world.device.name))
  assert.equal(await usage.count(), 2)
  await residentPage.getByRole('tab', { name: '用码记录' }).click()
  await residentPage.locator(t('scan-item'), { hasText: world.device.name }).first().waitFor()
  await shot(residentPage, '10-usage-records')
  // the audit trail, in words a resident reads, with its integrity check
  await residentPage.getByRole('tab', { name: '账户动态' }).click()
  await residentPage.locator(t('activity-item'), { hasText: '授权信息已提供给对方' }).first().waitFor()
  await residentPage.locator(t('activity-item'), { hasText: '实名认证通过' }).first().waitFor()
  await residentPage.getByText('记录完整，未被改动').waitFor()
})

test('kiosk resets after inactivity: the next person sees nothing of the previous one', async () => {
  const kiosk = kioskPage
  // (continuing from journey 2, the certificates are on screen) ... nobody touches it
  await kiosk.locator(`${t('kiosk')}[data-state="idle"]`).waitFor({ timeout: 30000 })
  const text = await kiosk.locator('body').innerText()
  assert.ok(!text.includes('办理补领结婚证') && !text.includes(`${world.resident.name[0]}***`), 'nothing of the previous holder remains')
  assert.equal(await kiosk.locator('img').count(), 0)

  // the touch path: the short code on the keypad, no keyboard needed
  await residentPage.goto('/')
  const short = (await residentPage.locator(t('short-code')).innerText()).trim()
  for (const digit of short) await kiosk.click(t(`key-${digit}`))
  await kiosk.click(t('key-确定'))
  await kiosk.locator(t('holder')).waitFor()
  await kiosk.locator(`${t('kiosk')}[data-state="idle"]`).waitFor({ timeout: 30000 })
  assert.equal(await kiosk.locator(t('holder')).count(), 0)
  assert.equal(await kiosk.locator(t('short-display')).innerText(), '········')
})

test('journey 3: prefilled 免证办 application, 秒批 lands a certificate; another goes through the queue with a supplement, then is rated', async () => {
  const page = residentPage
  await page.goto('/matters')
  await page.fill(`${t('matter-search')} input`, '居住证')
  await page.keyboard.press('Enter')
  await page.click(t('matter-440100-GA-0012'))
  await page.locator(t('guide')).waitFor()
  await page.click(t('apply'))
  await page.locator(t('field-name')).waitFor()
  assert.equal(await page.inputValue(input('field-name')), world.resident.name, 'prefilled from identity')
  assert.ok((await page.inputValue(input('field-residence_address'))).length > 5, 'prefilled from the ID card certificate')
  await page.locator(t('material-id_card')).locator(t('mianzheng')).waitFor() // 免证办
  await page.locator(`${t('field-reason')} .van-radio`, { hasText: '就业' }).click()
  await page.fill(input('field-residence_since'), '2025-06-01')
  await page.setInputFiles(`${t('upload-residence_proof')}`, PDF)
  await page.locator(t('material-residence_proof')).locator(t('uploaded')).waitFor()
  await shot(page, '11-apply-prefilled')
  // a double tap sends the same Idempotency-Key twice: one application
  await page.click(t('submit'))
  await page.getByText('已办结（秒批）').waitFor()
  await page.locator('.van-dialog__confirm').click()
  await page.waitForURL(/\/applications\/a[0-9a-f]{24}/)
  assert.equal(await page.locator(t('state')).innerText(), '已办结')
  await page.click(t('result-cert'))
  await page.locator(t('cert-detail')).waitFor()
  await page.goto('/wallet')
  await page.locator(t(`cert-${RESIDENCE}`)).waitFor()

  // 社会保障卡申领: to the department's queue
  await page.goto('/matters/440100-RS-0033/apply')
  await page.locator(t('field-bank')).waitFor()
  await page.locator(`${t('field-bank')} .van-radio`, { hasText: '建设银行' }).click()
  await page.setInputFiles(t('upload-photo'), PNG)
  await page.locator(t('material-photo')).locator(t('uploaded')).waitFor()
  await page.click(t('submit'))
  await page.waitForURL(/\/applications\/a[0-9a-f]{24}/)
  assert.equal(await page.locator(t('state')).innerText(), '已提交')
  const appUrl = page.url()

  const clerk = await desktop()
  await staffLogin(clerk, world.staff['rsj.shenhe'])
  await shot(clerk, '12-staff-queue')
  await clerk.locator(t('queue-440100-RS-0033')).first().click()
  await clerk.locator(t('staff-application')).waitFor()
  await clerk.locator(t('check-id_card')).locator(t('cert-check'), { hasText: '证照核验通过' }).waitFor()
  await clerk.click(t('action-accept'))
  await clerk.locator(t('staff-state'), { hasText: '审查中' }).waitFor()
  await page.locator(t('state'), { hasText: '审查中' }).waitFor() // the resident sees it live
  await clerk.locator('.van-checkbox', { hasText: '近期正面免冠证件照' }).click()
  await clerk.fill(input('staff-comment'), '照片背景需为白色，请重新上传')
  await clerk.click(t('action-request-supplement'))
  await clerk.locator(t('staff-state'), { hasText: '待补正' }).waitFor()
  await shot(clerk, '13-staff-application')

  await page.locator(t('supplement')).waitFor()
  assert.ok((await page.locator(t('supplement')).innerText()).includes('照片背景需为白色'))
  await page.setInputFiles(t('upload-photo'), PNG)
  await page.locator(t('supplement')).locator(t('uploaded')).waitFor()
  await page.click(t('resubmit'))
  await page.locator(t('state'), { hasText: '已补正' }).waitFor()

  await clerk.reload()
  await clerk.click(t('action-approve'))
  await clerk.locator(t('staff-state'), { hasText: '已批准' }).waitFor()
  await clerk.click(t('action-complete'))
  await clerk.locator(t('staff-state'), { hasText: '已办结' }).waitFor()

  await page.locator(t('state'), { hasText: '已办结' }).waitFor()
  const steps = await page.locator(t('timeline')).innerText()
  for (const s of ['已提交', '审查中', '待补正', '已补正', '已批准', '已办结']) assert.ok(steps.includes(s), `timeline shows ${s}`)
  // 好差评: a bad rating starts a rectification the department must answer
  await page.locator(`${t('rate')} .van-rate__item`).nth(1).click()
  await page.fill(input('rating-comment'), '补正来回两次，照片要求没有一次说清楚')
  await page.click(t('submit-rating'))
  await page.locator(t('rated')).waitFor()
  await shot(page, '14-application-rated')
  assert.equal(page.url(), appUrl)
  await page.reload() // the rating is remembered, not asked again
  await page.locator(t('rated')).waitFor()
  // still unhappy: the 差评 goes to 12345 as a 投诉, closed when the rectification is
  await page.click(t('rating-to-ticket'))
  await page.locator(t('ticket-from-rating')).waitFor()
  await page.fill(input('ticket-title'), '社保卡申领补正反复')
  await page.fill(input('ticket-content'), '补正来回两次，照片要求没有一次说清楚，希望改进办事指南。')
  await page.click(t('ticket-submit'))
  const complaint = (await page.locator(t('ticket-created')).innerText()).match(/12345-\d{8}-\d{6}/)[0]

  await clerk.click('.van-nav-bar__left')
  await clerk.click(t('go-stats'))
  await clerk.locator(t('stats'), { hasText: '社会保障卡申领' }).waitFor()
  const rect = clerk.locator(t('rectification'), { hasText: '照片要求没有一次说清楚' })
  await rect.locator(t('rect-answer')).click()
  await clerk.fill(`${t('rect-text')} textarea`, '已电话回访，照片规格已写入办事指南首页')
  await clerk.locator('.van-dialog__confirm').click()
  await rect.locator(t('rect-close')).click() // rsj.shenhe is also the supervisor
  await clerk.fill(`${t('rect-text')} textarea`, '整改到位，同意办结')
  await clerk.locator('.van-dialog__confirm').click()
  await rect.getByText('已办结').waitFor()
  await shot(clerk, '14b-staff-rectification')
  await clerk.context().close()
  await page.goto('/tickets')
  await page.click(t(`ticket-${complaint}`))
  await page.locator(t('ticket-state'), { hasText: '已办结' }).waitFor()
  await page.getByText('照片规格已写入办事指南首页').first().waitFor()
})

test('kiosk applies for the holder with the consented certificate, and collects the rating once it is done', async () => {
  const kiosk = kioskPage
  await kiosk.locator(`${t('kiosk')}[data-state="idle"]`).waitFor({ timeout: 30000 })
  const scanHolder = async () => {
    await residentPage.goto('/')
    const code = await residentPage.locator(t('person-code')).getAttribute('data-code')
    await kiosk.keyboard.type(code)
    await kiosk.keyboard.press('Enter')
    await kiosk.locator(t('holder')).waitFor()
  }
  await scanHolder()
  await kiosk.click(t('kiosk-matter-440100-WJ-0008')) // 新生儿预防接种证办理: the birth certificate suffices
  await kiosk.locator(t('waiting')).waitFor()
  const card = residentPage.locator('[data-test^="consent-c"]').first()
  await card.waitFor()
  await card.locator(t('consent-approve')).click()
  await kiosk.locator(t('kiosk-apply')).waitFor()
  await kiosk.click(t('pick-天河区妇幼保健院接种门诊'))
  await shot(kiosk, '10c-kiosk-apply')
  await kiosk.click(t('kiosk-submit'))
  const applied = kiosk.locator(t('kiosk-applied'))
  await applied.waitFor()
  const number = (await applied.innerText()).match(/GZ\d+/)[0]
  await kiosk.click(t('finish'))

  // the holder's own application, in their list, saying who submitted it
  await residentPage.goto('/applications')
  const row = residentPage.locator(t('application-440100-WJ-0008'))
  await row.waitFor()
  assert.ok((await row.innerText()).includes(number))
  await row.click()
  assert.ok((await residentPage.locator(t('timeline')).innerText()).includes('代为提交'))

  // the health department handles it
  const clerk = await desktop()
  await staffLogin(clerk, world.staff['wjw.shenhe'])
  await clerk.locator(t('queue-440100-WJ-0008')).first().click()
  for (const [action, state] of [['accept', '审查中'], ['approve', '已批准'], ['complete', '已办结']]) {
    await clerk.click(t(`action-${action}`))
    await clerk.locator(t('staff-state'), { hasText: state }).waitFor()
  }
  await clerk.context().close()

  // next visit: 现场评价 of what was handled here (the online 居住证 is not the kiosk's business)
  await scanHolder()
  const ratings = kiosk.locator(t('kiosk-ratings'))
  await ratings.waitFor()
  const listed = await ratings.innerText()
  assert.ok(listed.includes('新生儿预防接种证办理') && !listed.includes('居住证申领'))
  await shot(kiosk, '10b-kiosk-rating')
  await ratings.locator(t('star-5')).first().click()
  await kiosk.locator(t('kiosk-thanks')).waitFor()
  await kiosk.click(t('finish'))
  await kiosk.locator(`${t('kiosk')}[data-state="idle"]`).waitFor()
})

test('journey 4: a legal representative binds the enterprise and authorises an agent, who acts for it and applies for a bundle', async () => {
  const rep = await desktop()
  await signUp(rep, world.rep)
  await rep.goto('/portal')
  await rep.fill(input('bind-uscc'), world.enterprise.uscc)
  await rep.fill(input('bind-name'), world.enterprise.name)
  await rep.click(t('bind'))
  await rep.locator(t(`enterprise-${world.enterprise.uscc}`)).waitFor()
  await rep.click(t('act-as'))
  await rep.locator(t('acting'), { hasText: world.enterprise.name }).waitFor()
  await rep.getByRole('tab', { name: '经办人授权' }).click()
  await rep.fill(input('agent-phone'), world.agent.phone)
  await rep.click(t('scope-code'))
  await rep.click(t('invite'))
  await rep.locator(t('agent-invited')).waitFor()
  await shot(rep, '15-portal-agents')

  const agent = await desktop()
  await signUp(agent, world.agent)
  await agent.goto('/portal')
  await agent.locator(t(`invitation-${world.enterprise.uscc}`)).locator(t('accept')).click()
  await agent.locator(t(`enterprise-${world.enterprise.uscc}`)).click()
  await agent.click(t('act-as'))
  await agent.locator(t('acting'), { hasText: world.enterprise.name }).waitFor()
  const ecode = agent.locator(t('enterprise-code'))
  await ecode.locator('img').waitFor()
  assert.match(await ecode.getAttribute('data-code'), /^SA1:/)
  await shot(agent, '16-portal-enterprise-code')

  // 亮照: the enterprise's licence has the resident wallet's detail, image and one-time QR
  await agent.getByRole('tab', { name: '企业证照' }).click()
  await agent.click(t('cert-11100000MB0143028R001'))
  await agent.locator(t('cert-detail')).waitFor()
  assert.match(await agent.locator(t('cert-detail')).innerText(), new RegExp(world.enterprise.name))
  await agent.fill(input('share-purpose'), '投标资格审查')
  await agent.click(t('share'))
  await agent.locator(t('share-qr')).waitFor()
  await shot(agent, '16b-portal-licence')
  await agent.goto('/portal')
  await agent.locator(t('acting'), { hasText: world.enterprise.name }).waitFor()

  await agent.getByRole('tab', { name: '企业办事' }).click()
  await agent.click(t('bundle-YJS-CY-001'))
  await agent.locator(t('reduction')).waitFor()
  assert.match(await agent.locator(t('reduction')).innerText(), /一次填写 8 项.*12 项/)
  assert.equal(await agent.inputValue(input('field-uscc')), world.enterprise.uscc, 'prefilled from the enterprise')
  await agent.locator(t('material-11100000MB0143028R001')).locator(t('mianzheng')).waitFor()
  await agent.fill(input('field-business_items'), '热食类食品制售')
  await agent.fill(input('field-safety_manager'), world.agent.name)
  await agent.fill(input('field-employees'), '12')
  await agent.fill(input('field-contact_phone'), world.agent.phone)
  await agent.setInputFiles(t('upload-440100-SJ-0207-layout'), PDF)
  await agent.locator(t('material-440100-SJ-0207-layout')).locator(t('uploaded')).waitFor()
  await agent.setInputFiles(t('upload-440100-SJ-0207-rules'), PDF)
  await agent.locator(t('material-440100-SJ-0207-rules')).locator(t('uploaded')).waitFor()
  await shot(agent, '17-bundle-form')
  await agent.click(t('submit'))
  await agent.waitForURL(/\/bundle-applications\//)
  await agent.locator(t('bundle-child')).nth(1).waitFor()
  const children = await agent.locator(t('bundle-child')).allInnerTexts()
  assert.ok(children.some((c) => c.includes('广州市市场监督管理局')) && children.some((c) => c.includes('广州市人力资源和社会保障局')))
  await shot(agent, '18-bundle-progress')

  // the legal representative widens the agent's authorisation; it applies at once
  await rep.reload()
  await rep.locator(t(`enterprise-${world.enterprise.uscc}`)).click()
  await rep.getByRole('tab', { name: '经办人授权' }).click()
  await rep.locator(t('agent-active')).locator(t('agent-edit')).click()
  await rep.click(t('edit-scope-agents'))
  await rep.locator('.van-dialog__confirm').click()
  await rep.locator(t('agent-active'), { hasText: '管理经办人' }).waitFor()
  await agent.goto('/portal')
  await agent.locator(t(`enterprise-${world.enterprise.uscc}`)).click()
  await agent.getByRole('tab', { name: '经办人授权' }).waitFor()
})

test('journey 6: a broken street light reported with a photo, dispatched, redone once, then closed to satisfaction', async () => {
  const page = await phone()
  await signUp(page, world.reporter)
  await page.goto('/tickets')
  await page.locator(t('empty-state')).waitFor() // nothing yet: says what to do
  await page.click(t('empty-action'))
  await page.waitForURL(/\/tickets\/new/)
  await page.click(t('kind-help'))
  await page.click(t('ticket-submit')) // nothing chosen: told before anything is sent
  await page.getByText('请选择分类').waitFor()
  await page.click(t('ticket-category'))
  await page.locator('.van-picker-column__item', { hasText: '路灯不亮或损坏' }).click()
  await page.locator('.van-picker__confirm').click()
  await page.fill(input('ticket-title'), '体育西路路灯不亮')
  await page.fill(input('ticket-content'), '体育西路 101 号门前两盏路灯连续三晚不亮，夜间行人不便。')
  await page.fill(input('ticket-address'), '广州市天河区体育西路 101 号')
  await page.setInputFiles(t('ticket-upload'), PNG)
  await page.getByText('照片.png').waitFor()
  await shot(page, '19-ticket-new')
  await page.click(t('ticket-submit'))
  const created = page.locator(t('ticket-created'))
  await created.waitFor()
  const number = (await created.innerText()).match(/12345-\d{8}-\d{6}/)[0]

  // the 12345 centre accepts and dispatches it to city management
  const centre = await desktop()
  await staffLogin(centre, world.staff['rx.paidan'], 'ticket-queue')
  await centre.click(t(`tq-${number}`))
  await centre.locator(t('desk-ticket')).waitFor()
  await centre.click(t('desk-accept'))
  await centre.locator(t('desk-state'), { hasText: '已受理' }).waitFor()
  await centre.click(t('desk-dispatch'))
  await centre.locator(t('desk-state'), { hasText: '已派单' }).waitFor()
  await shot(centre, '20-ticket-dispatched')

  // the department signs and answers
  const dept = await desktop()
  await staffLogin(dept, world.staff['cg.chuli'], 'queue')
  await dept.goto('/staff/tickets')
  await dept.click(t(`tq-${number}`))
  await dept.locator(t('desk-reporter')).waitFor()
  await dept.click(t('desk-sign'))
  await dept.locator(t('desk-state'), { hasText: '办理中' }).waitFor()
  await dept.fill(input('desk-comment'), '已更换一盏路灯的灯泡')
  await dept.click(t('desk-answer'))
  await dept.locator(t('desk-state'), { hasText: '已答复' }).waitFor()

  // the resident is not satisfied: redone once, then satisfied
  await page.goto('/tickets')
  await page.click(t(`ticket-${number}`))
  await page.locator(t('ticket-answer')).waitFor()
  await shot(page, '21-ticket-answered')
  await page.click(t('callback-unsatisfied'))
  await page.locator(t('ticket-state'), { hasText: '办理中' }).waitFor()
  await dept.reload()
  await dept.fill(input('desk-comment'), '两盏路灯均已修复，夜间复查正常')
  await dept.click(t('desk-answer'))
  await dept.locator(t('desk-state'), { hasText: '已答复' }).waitFor()
  await page.reload()
  await page.click(t('callback-satisfied'))
  await page.locator(t('ticket-state'), { hasText: '已办结' }).waitFor()
  const steps = await page.locator('.van-step').allInnerTexts()
  assert.ok(steps.some((s) => s.includes('不满意，重办')) && steps.some((s) => s.includes('已办结')))
  await shot(page, '22-ticket-closed')
  await Promise.all([page.context().close(), centre.context().close(), dept.context().close()])
})

test('journey 7: book a hall visit on the phone, check in at the kiosk, follow the queue, called to the window and the screen, 帮办 with consent', async () => {
  const page = await phone()
  await signUp(page, world.parent)
  // the matter guide says where it is handled; the hall page takes the matter along
  await page.goto('/matters/440100-GA-0041')
  await page.locator(t('places')).waitFor()
  await page.click(t('place-gz-hall-tianhe'))
  await page.waitForURL(/\/halls\/gz-hall-tianhe\?matter=440100-GA-0041/)
  await page.locator(t('slots')).waitFor()
  const slot = page.locator('[data-test^="slot-"]:not([disabled])').first()
  await slot.waitFor()
  await shot(page, '24-hall-booking')
  await slot.click()
  await page.click(t('book'))
  await page.locator('.van-dialog__confirm').click() // 确认预约
  const done = page.locator('.van-dialog__message', { hasText: '预约码' })
  await done.waitFor()
  const checkin = (await done.innerText()).match(/预约码 (\d{8})/)[1]
  await page.locator('.van-dialog__confirm').click()
  await page.waitForURL(/\/halls\/appointments/)
  assert.equal(await page.locator(t('checkin-code')).first().innerText(), checkin)
  await shot(page, '25-my-appointments')

  // the hall screen, a device of the hall
  const screen = await desktop()
  await screen.goto('/hall/gz-hall-tianhe/display')
  await screen.locator(t('display-device-id')).waitFor()
  await screen.setInputFiles(t('display-config'), { name: 'display-th-01.json', mimeType: 'application/json',
    buffer: Buffer.from(JSON.stringify({ device_id: world.display.id, private_key_pem: world.display.private_key_pem })) })
  await screen.locator(`${t('hall-display')}[data-state="live"]`).waitFor()
  await screen.locator(t('display-waiting')).waitFor()
  await screen.click(t('enable-voice'))

  // at the hall: the kiosk scans the person code, the booking is checked in with a priority number
  const kiosk = await desktop()
  await provisionKiosk(kiosk, 60)
  await page.goto('/')
  const code = await page.locator(t('person-code')).getAttribute('data-code')
  await kiosk.keyboard.type(code)
  await kiosk.keyboard.press('Enter')
  await kiosk.locator(t('holder')).waitFor()
  await kiosk.click(t('take-number'))
  const label = (await kiosk.locator(t('issued-label')).innerText()).trim()
  assert.match(label, /^[AV]\d{3}$/)
  assert.ok((await kiosk.locator(t('kiosk-number')).innerText()).includes('预约已签到'))
  await shot(kiosk, '26-kiosk-number')
  await kiosk.click(t('finish'))

  // the phone follows the queue
  await page.goto('/halls/appointments')
  await page.click(t(`number-${label}`))
  await page.locator(`${t('my-number')}[data-state="waiting"]`).waitFor()
  assert.equal(await page.locator(t('number-label')).innerText(), label)
  assert.match(await page.locator(t('number-state')).innerText(), /前面还有 \d+ 人，预计 \d+ 分钟/)
  await shot(page, '27-my-number')

  // a window clerk opens window 1 and calls: the phone and the screen are told at once
  const clerk = await desktop()
  await staffLogin(clerk, world.staff['th.chuangkou'], 'hall-tabs')
  await clerk.waitForURL(/\/staff\/hall/)
  await clerk.selectOption(`select${t('window-select')}`, '1')
  await clerk.click(t('window-open'))
  await clerk.click(t('call-next'))
  await clerk.locator(t(`current-${label}`)).waitFor()
  await page.locator(`${t('my-number')}[data-state="called"]`).waitFor()
  assert.match(await page.locator(t('number-state')).innerText(), /请到 1 号综合窗口 办理/)
  const called = screen.locator(t(`called-${label}`))
  await called.waitFor()
  const board = await called.innerText()
  assert.ok(board.includes('1 号综合窗口') && board.includes(`${world.parent.name[0]}*`), board)
  assert.ok(!board.includes(world.parent.name), 'the screen shows the name masked')
  assert.match(await screen.locator(t('last-announcement')).innerText(), new RegExp(`请 ${label.split('').join(' ')} 号，到1 号综合窗口办理`))
  await shot(screen, '28-hall-screen')

  // serve, and 帮办: the clerk scans the code, the person approves on the phone, the clerk applies
  await clerk.click(t('serve'))
  await clerk.locator(t('help')).waitFor()
  await page.goto('/')
  const again = await page.locator(t('person-code')).getAttribute('data-code')
  await clerk.fill(input('help-code'), again)
  await clerk.click(t('help-scan'))
  await clerk.locator(t('help-holder')).waitFor()
  await clerk.click(t('help-matter-440100-GA-0041'))
  await clerk.locator(t('help-waiting')).waitFor()
  const card = page.locator('[data-test^="consent-c"]').first()
  await card.waitFor()
  assert.ok((await card.innerText()).includes('窗口帮办：新生儿入户登记'))
  await card.locator(t('consent-approve')).click()
  await clerk.click(t('help-pick-母亲'))
  await shot(clerk, '29-window-help')
  await clerk.click(t('help-submit'))
  const submitted = await clerk.locator(t('help-submitted')).innerText()
  assert.ok(submitted.includes('新生儿入户登记'))
  await clerk.click(t('finish-number'))
  await clerk.locator(t(`current-${label}`)).waitFor({ state: 'detached' })

  // the application is the person's own, submitted by the window
  await page.goto('/applications')
  await page.getByText('新生儿入户登记').first().waitFor()
  await page.goto('/halls/appointments')
  await page.locator(t(`number-${label}`), { hasText: '已办结' }).waitFor()
})

test('journey 8: a mother lets her son act for her; he sees her wallet under a banner; her revocation ends it at once', async () => {
  const son = await phone()
  await signUp(son, world.son)
  const mother = await phone()
  await signUp(mother, world.elder)
  // she authorises him (checked before sending), from 我的 → 亲友代办
  await mother.goto('/mine')
  await mother.click(t('go-proxies'))
  await mother.locator(t('grant-form')).waitFor()
  await mother.click(t('grant-submit'))
  await mother.getByText('请填写正确的手机号').waitFor()
  await mother.fill(input('grant-phone'), world.son.phone)
  await mother.click(t('grant-submit'))
  await mother.locator('[data-test^="granted-g"]', { hasText: '待对方接受' }).waitFor()
  await shot(mother, '30-proxies-granted')
  // he accepts and acts for her
  await son.goto('/mine/proxies')
  const received = son.locator('[data-test^="received-g"]').first()
  await received.locator(t('grant-accept')).click()
  await received.locator(t('act-for')).click()
  await son.locator(t('acting-banner')).waitFor()
  assert.match(await son.locator(t('acting-banner')).innerText(), /正在为 钱\*\* 代办/)
  await son.locator(t('acting-home')).waitFor() // her code stays on her phone
  assert.equal(await son.locator(t('person-code')).count(), 0)
  await son.goto('/wallet')
  await son.locator('[data-test^="cert-"]').first().waitFor()
  assert.ok((await son.locator('main').innerText()).includes('居民身份证'))
  await shot(son, '31-acting-wallet')
  // she revokes: his next request finds out, and he is himself again
  await mother.goto('/mine/proxies')
  await mother.locator('[data-test^="granted-g"]').first().locator(t('grant-revoke')).click()
  await mother.locator('.van-dialog__confirm').click()
  await mother.locator('[data-test^="granted-g"]', { hasText: '已撤销' }).waitFor()
  await son.goto('/wallet')
  await son.getByText('代办授权已撤销或已到期').first().waitFor()
  await son.locator(t('acting-banner')).waitFor({ state: 'detached' })
  await son.goto('/')
  await son.locator(t('person-code')).waitFor() // his own code again
  // both trails say what happened
  await mother.goto('/mine')
  await mother.getByRole('tab', { name: '账户动态' }).click()
  await mother.locator(t('activity-item'), { hasText: '撤销代办授权' }).first().waitFor()

  // again, but his page is left in the middle of switching back (the note of whom he acts for
  // gone, the token still acting): his home mends itself and shows his own code
  await mother.goto('/mine/proxies')
  await mother.fill(input('grant-phone'), world.son.phone)
  await mother.click(t('grant-submit'))
  await mother.locator('[data-test^="granted-g"]', { hasText: '待对方接受' }).waitFor()
  await son.goto('/mine/proxies')
  const again = son.locator('[data-test^="received-g"]', { has: son.locator(t('grant-accept')) }).first()
  await again.locator(t('grant-accept')).click()
  await son.locator('[data-test^="received-g"]').locator(t('act-for')).first().click()
  await son.locator(t('acting-home')).waitFor()
  await mother.goto('/mine/proxies')
  await mother.locator('[data-test^="granted-g"]', { hasText: '生效中' }).locator(t('grant-revoke')).click()
  await mother.locator('.van-dialog__confirm').click()
  await mother.locator('[data-test^="granted-g"]', { hasText: '已撤销' }).nth(1).waitFor()
  await son.evaluate(() => sessionStorage.removeItem('resident.acting'))
  await son.goto('/')
  await son.locator(t('person-code')).waitFor()
  assert.equal(await son.locator(t('acting-home')).count(), 0)
})
