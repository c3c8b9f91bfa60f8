// People from Hong Kong, Macao, Taiwan and abroad (docs/identity.md, 跨境用户): a Hong Kong
// resident signs in with a +852 number and verifies with a 回乡证, all through the screens at
// 360 px; malformed numbers and documents are caught before anything is sent; the 跨境通办专区
// lists what they can do (wholly online, or with a visit to the halls), in the three languages.
// Started by tests/superapp/test_e2e_h5.py, which registers the person (world.hk_person) in the
// development population registry.
import { after, before, test } from 'node:test'
import assert from 'node:assert/strict'
import { BASE, axe, checked, input, launch, mobilePage, settled, t, world } from './checks.mjs'

const HK = world.hk_person
const ONLINE = '440100-RS-0033' // 社会保障卡申领: cross_border, no visit
const VISIT = '440100-MZ-0005' // 补领结婚证: cross_border, one visit
const UNTRANSLATED = '440100-SJ-0101' // 个体工商户设立登记: cross_border, no translation yet
let browser

before(async () => { browser = await launch() })
after(async () => { await browser?.close() })

// A small phone, signed out, whose browser speaks ``locale``; every POST it sends is recorded.
async function phone(locale = 'zh-CN', { elder = false } = {}) {
  const page = await mobilePage(browser, { locale, elder })
  page.posts = []
  page.on('request', (r) => { if (r.method() === 'POST') page.posts.push({ path: new URL(r.url()).pathname, body: r.postData() }) })
  return page
}
const posted = (page, path) => page.posts.filter((p) => p.path === path)

// Type a value into a field, press a button, and read the field's red message.
async function rejected(page, field, value, button) {
  await page.fill(input(field), value)
  await page.click(t(button))
  const message = page.locator(`${t(field)} .van-field__error-message`)
  await message.waitFor()
  return (await message.innerText()).trim()
}

async function outboxCode(number) {
  const r = await fetch(`${BASE}/api/v1/dev/sms-outbox?phone=${encodeURIComponent(number)}`)
  assert.equal(r.status, 200)
  const items = (await r.json()).items
  assert.ok(items.length, `no SMS for ${number}`)
  return items[0]
}

test('cross-border: a +852 number signs in and verifies with a 回乡证 through the screens; malformed numbers and documents are caught first', async () => {
  const page = await phone()
  await page.goto('/login')
  await page.locator(t('agreement-user')).waitFor()
  await checked(page, '登录（国家或地区）')
  assert.equal(await page.locator(t('region-select')).inputValue(), 'CN', 'the mainland is the default')

  // the 跨境通办专区, from the login page
  await page.click(t('go-cross-border'))
  await page.waitForURL(/\/cross-border$/)
  await page.locator(t(`cb-matter-${ONLINE}`)).waitFor()
  await checked(page, '跨境通办专区')
  assert.equal(await page.locator('h1').innerText(), '跨境通办专区')
  assert.ok(await page.locator('[data-test^="cb-matter-"]').count() >= 3)
  assert.match(await page.locator(t(`cb-matter-${ONLINE}`)).innerText(), /全程网办/)
  assert.equal(await page.locator(`${t(`cb-matter-${ONLINE}`)} ${t('cb-halls')}`).count(), 0, 'nothing to visit')
  const visit = page.locator(t(`cb-matter-${VISIT}`))
  assert.match(await visit.innerText(), /需到大厅 1 次/)
  await visit.locator(t('cb-halls')).click()
  await page.waitForURL((u) => u.pathname === '/halls' && u.searchParams.get('matter') === VISIT)
  await page.locator(t('matter-filter')).waitFor()
  await page.goBack()
  await page.locator(t(`cb-matter-${VISIT}`)).waitFor()
  await page.click(t('cb-login'))
  await page.waitForURL(/\/login/)
  await page.locator(t('agreement-user')).waitFor()
  await page.click(t('agree'))

  // malformed numbers: each region's own rule, said in plain words, nothing sent
  assert.match(await rejected(page, 'phone', '+85291234567', 'send'), /请先在上面选择国家或地区/)
  await page.selectOption(t('region-select'), 'HK')
  assert.equal(await page.locator(`${t('phone')} .van-field__error-message`).count(), 0, 'a new region clears the message')
  assert.equal(await page.locator(t('dial')).innerText(), '+852')
  assert.match(await rejected(page, 'phone', '9123456', 'send'), /香港手机号码应为 8 位数字/)
  await page.fill(input('phone'), '91234')
  assert.equal(await page.locator(`${t('phone')} .van-field__error-message`).count(), 0, 'a corrected field loses its message')
  await page.selectOption(t('region-select'), 'MO')
  assert.match(await rejected(page, 'phone', '661234567', 'send'), /澳门手机号码应为 8 位数字/)
  await page.selectOption(t('region-select'), 'TW')
  assert.match(await rejected(page, 'phone', '812345678', 'send'), /台湾手机号码应为 9 位数字，以 9 开头/)
  await page.selectOption(t('region-select'), 'other')
  assert.equal(await page.locator(t('dial')).count(), 0, 'the whole number is typed')
  assert.match(await rejected(page, 'phone', '447911123456', 'send'), /以 \+ 开头/)
  assert.match(await rejected(page, 'phone', '+4479', 'send'), /8-15 位数字/)
  await page.selectOption(t('region-select'), 'CN')
  assert.match(await rejected(page, 'phone', '1234567890', 'send'), /11 位数字/)
  assert.deepEqual(posted(page, '/api/v1/auth/sms/send'), [], 'malformed numbers are not sent')

  // the Hong Kong number, typed as people there write it: sent in E.164
  await page.selectOption(t('region-select'), 'HK')
  await page.fill(input('phone'), `${HK.local.slice(0, 4)} ${HK.local.slice(4)}`)
  await page.click(t('send'))
  await page.getByText('验证码已发送').waitFor()
  assert.equal(JSON.parse(posted(page, '/api/v1/auth/sms/send')[0].body).phone, HK.phone)
  const sms = await outboxCode(HK.phone)
  assert.equal(sms.region, 'hmt')
  await page.fill(input('code'), sms.params.code)
  await page.click(t('login'))
  await page.waitForURL((u) => u.pathname === '/')
  assert.equal(JSON.parse(posted(page, '/api/v1/auth/sms/verify')[0].body).phone, HK.phone)

  // real name with the 回乡证
  await page.click(t('go-realname'))
  await page.waitForURL(/\/realname/)
  await page.locator(t('id-type-select')).waitFor()
  await page.selectOption(t('id-type-select'), 'hk_macao_permit')
  assert.match(await page.locator(t('id-type-hint')).innerText(), /H 开头/)
  await checked(page, '实名认证（回乡证）')
  await page.fill(input('name'), HK.name)
  assert.match(await rejected(page, 'id-number', 'X12345678', 'verify'), /H（香港）或 M（澳门）加 8 位数字/)
  assert.match(await rejected(page, 'id-number', 'H1234567', 'verify'), /回乡证号码/)
  // other documents: their own rules
  await page.selectOption(t('id-type-select'), 'taiwan_permit')
  assert.match(await rejected(page, 'id-number', '1234567', 'verify'), /台胞证号码应为 8 位数字/)
  await page.selectOption(t('id-type-select'), 'residence_permit_hmt')
  assert.match(await rejected(page, 'id-number', '440106199003153018', 'verify'), /810000/)
  await page.selectOption(t('id-type-select'), 'foreign_permanent_id')
  assert.match(await rejected(page, 'id-number', '440106199003153018', 'verify'), /以 9 开头/)
  await page.selectOption(t('id-type-select'), 'passport')
  await page.locator(t('visa-number')).waitFor()
  await page.fill(input('name'), 'John Smith')
  await page.fill(input('id-number'), 'E1234567')
  await page.click(t('verify'))
  await page.locator(`${t('nationality')} .van-field__error-message`).waitFor()
  assert.match(await page.locator(`${t('nationality')} .van-field__error-message`).innerText(), /请选择护照的签发国家/)
  assert.match(await page.locator(`${t('visa-number')} .van-field__error-message`).innerText(), /签证或居留许可/)
  assert.equal(await page.locator(`${t('name')} .van-field__error-message`).count(), 0, 'a foreign name with a space is fine')
  await page.selectOption(t('nationality-select'), 'other')
  await page.fill(input('visa-number'), 'V1234567')
  assert.match(await rejected(page, 'nationality-code', 'HKG', 'verify'), /港澳居民请选择/)
  assert.match(await rejected(page, 'nationality-code', 'E5', 'verify'), /3 个字母/)
  await checked(page, '实名认证（护照）')
  assert.deepEqual(posted(page, '/api/v1/me/realname'), [], 'malformed documents are not sent')

  await page.selectOption(t('id-type-select'), 'hk_macao_permit')
  assert.equal(await page.locator(t('visa-number')).count(), 0, 'a visa only for passports')
  await page.fill(input('name'), HK.name)
  await page.fill(input('id-number'), HK.id_number.toLowerCase())
  await page.click(t('verify'))
  await page.locator(t('person-code')).waitFor()
  assert.deepEqual(JSON.parse(posted(page, '/api/v1/me/realname')[0].body),
    { name: HK.name, id_number: HK.id_number, id_type: 'hk_macao_permit' })
  assert.match(await page.locator('#code-title').innerText(), /陳/)

  // 我的: the masked permit and phone; no gender or birth date to show, and nothing breaks
  await page.goto('/mine')
  await page.locator(t('me')).waitFor()
  const mine = await page.locator('main').innerText()
  assert.ok(mine.includes(`${HK.id_number.slice(0, 2)}*****${HK.id_number.slice(-2)}`), mine.slice(0, 300))
  assert.ok(mine.includes(`+852****${HK.phone.slice(-4)}`), mine.slice(0, 300))
  assert.match(mine, /实名认证/)
  await settled(page)
  await axe(page, '我的（跨境）')
  assert.deepEqual(page.errors, [])
  await page.context().close()
})

test('the 跨境通办专区 in 繁體 and English at 360 px: translated, untranslated matters marked, axe clean', async () => {
  for (const [locale, title, online, visits] of [
    ['zh-TW', '跨境通辦專區', /全程網上辦理/, /須到大廳 1 次/],
    ['en', 'Cross-border services', /Fully online/, /One visit to a service hall/],
  ]) {
    const page = await phone(locale)
    await page.goto('/login')
    await page.locator(t('agreement-user')).waitFor()
    await page.click(t('go-cross-border'))
    await page.locator(t(`cb-matter-${ONLINE}`)).waitFor()
    await checked(page, `跨境通办专区 ${locale}`)
    assert.equal(await page.locator('h1').innerText(), title)
    assert.match(await page.locator(t(`cb-matter-${ONLINE}`)).innerText(), online)
    assert.match(await page.locator(t(`cb-matter-${VISIT}`)).innerText(), visits)
    // a matter with no translation shows its Simplified name, marked
    assert.equal(await page.locator(`${t(`cb-matter-${UNTRANSLATED}`)} ${t('zh-only')}`).count(), 1)
    assert.equal(await page.locator(`${t(`cb-matter-${ONLINE}`)} ${t('zh-only')}`).count(), 0)
    // the login page's region choice, in this language
    await page.goto('/login')
    await page.locator(t('agreement-user')).waitFor()
    await page.selectOption(t('region-select'), 'TW')
    await page.click(t('agree'))
    const msg = await rejected(page, 'phone', '0812345678', 'send')
    assert.match(msg, locale === 'en' ? /Taiwan mobile number has 9 digits/ : /台灣手機號碼應為 9 位數字/)
    await checked(page, `登录 ${locale}`)
    assert.deepEqual(posted(page, '/api/v1/auth/sms/send'), [])
    assert.deepEqual(page.errors, [])
    await page.context().close()
  }
})

test('适老化: the 跨境通办专区 and the login page\'s region choice keep large targets at 360 px', async () => {
  const page = await phone('zh-CN', { elder: true })
  await page.goto('/cross-border')
  await page.locator(t(`cb-matter-${VISIT}`)).waitFor()
  await checked(page, '跨境通办专区', { elder: true })
  await page.goto('/login')
  await page.locator(t('agreement-user')).waitFor()
  await page.selectOption(t('region-select'), 'other')
  await checked(page, '登录', { elder: true })
  const box = await page.locator(t('region-select')).boundingBox()
  assert.ok(box.height >= 47.5, `the region choice is ${box.height}px tall`)
  assert.deepEqual(page.errors, [])
  await page.context().close()
})
