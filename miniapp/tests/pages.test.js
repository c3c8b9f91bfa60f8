// Pages against the real backend (tests/superapp/test_miniapp.py started it): the home page with the
// person code, the wallet, and a pre-filled application with 免证办, an upload picked with
// wx.chooseMedia and the subscribe-message request before submitting.
const fs = require('fs')
const { wx, store, calls, willChoose } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

afterEach(detachAll)

beforeAll(() => {
  store.set('superapp.access', world.verified.access_token)
  store.set('superapp.refresh', world.verified.refresh_token)
})

test('home: the person code with its 短码, screen brightened while shown and restored after', async () => {
  const page = renderPage('index')
  await page.instance.ready
  await until(() => page.data.code && page.data.imageSrc, 'the code')
  expect(text(page).replace(/ /g, '')).toContain(`短码${page.data.code.short_code}`)
  expect(page.data.code.code).toMatch(/^SA1:/)
  expect(fs.statSync(page.data.imageSrc.split('?')[0]).size).toBeGreaterThan(100) // the PNG from the server
  expect(calls).toContainEqual(['setScreenBrightness', 1])
  page.detach()
  expect(calls).toContainEqual(['setScreenBrightness', 0.4])
})

test('wallet: the certificate issued before registration, with its status', async () => {
  const page = renderPage('wallet')
  await page.instance.ready
  expect(text(page)).toContain('居民身份证')
  expect(text(page)).toContain('有效')
  page.detach()
})

test('apply: pre-filled, 免证办 ticked, photo uploaded, notifications asked for, submitted once', async () => {
  const page = renderPage('affairs/apply', { code: '440100-RS-0033' })
  await page.instance.ready
  expect(text(page)).toContain(`姓名=${world.verified.name}`)
  expect(text(page)).toContain('✓ 免证办')
  const bank = page.data.fields.find((f) => f.key === 'bank')
  page.instance.onPick({ currentTarget: { dataset: { key: 'bank' } }, detail: { value: bank.options.indexOf('建设银行') } })
  willChoose('photo.png', PNG)
  await page.instance.upload({ currentTarget: { dataset: { id: 'photo' } } })
  expect(calls.filter((c) => c[0] === 'showToast')).toEqual([])
  expect(page.data.uploads.photo).toMatch(/^f[0-9a-f]{24}$/)
  await page.instance.submit()
  expect(calls).toContainEqual(['requestSubscribeMessage', ['tpl-application-progress-dev']])
  const redirect = calls.find((c) => c[0] === 'redirectTo')
  expect(redirect[1]).toMatch(/^\/affairs\/application\/index\?id=a[0-9a-f]{24}$/)
  const mine = (await api.get('/api/v1/applications')).items
  expect(mine.map((a) => `/affairs/application/index?id=${a.id}`)).toEqual([redirect[1]])
  page.detach()
})

test('every other page renders its data from the backend', async () => {
  const cert = (await api.get('/api/v1/wallet')).items[0]
  const app = (await api.get('/api/v1/applications')).items[0]
  const cases = [
    ['login', {}, ['微信一键登录', '《用户协议》', '《隐私政策》']],
    ['realname', {}, ['提交认证']],
    ['matters', {}, ['社会保障卡申领', '我的办件', '一件事一次办']],
    ['affairs/matter', { code: '440100-RS-0033' }, ['承诺时限', '近期正面免冠证件照', '可用电子证照免提交']],
    ['me/cert', { id: cert.id }, ['签名核验', '真实有效', '生成亮证二维码']],
    ['affairs/applications', {}, [app.number]],
    ['mine', {}, [`${world.verified.name[0]}*`, '已实名认证', '适老化', '注销账号']], // the name masked, no "L2"
    ['me/records', {}, ['用证记录', '用码记录']],
    ['me/activity', {}, ['记录完整，未被改动', '实名认证通过']],
    ['me/enterprise', {}, ['还没有企业']],
    ['me/agreement', { kind: 'privacy' }, ['个人信息保护法', '版本']],
    ['me/close', {}, ['请先了结以下事项', app.number]], // an application in progress: not yet
  ]
  const toasts = calls.filter((c) => c[0] === 'showToast').length
  for (const [name, query, expected] of cases) {
    const page = renderPage(name, query)
    await page.instance.ready
    await until(() => expected.every((e) => text(page).includes(e)), `${name} showing ${expected}`, 3000).catch(() => {})
    for (const e of expected) expect(`${name}: ${text(page)}`).toContain(e)
    page.detach()
  }
  // the application page loads the application for its card (the card's rendering has its own tests)
  const detail = renderPage('affairs/application', { id: app.id })
  await detail.instance.ready
  expect(detail.data.a.id).toBe(app.id)
  expect(detail.data.a.state_name).toBe('已提交')
  detail.detach()
  expect(calls.filter((c) => c[0] === 'showToast').slice(toasts)).toEqual([]) // no error shown
})

test('亮证 with chosen fields and a purpose: a QR any phone camera opens, showing only those fields', async () => {
  const cert = (await api.get('/api/v1/wallet')).items[0]
  const page = renderPage('me/cert', { id: cert.id })
  await page.instance.ready
  await until(() => page.data.cert, 'the certificate')
  await page.instance.show() // nothing said yet: told, nothing sent
  expect(page.data.errors.purpose).toMatch(/用途/)
  expect(page.data.qrSrc).toBe('')
  expect(page.data.chosen.id_number).toBe(false) // sensitive fields are not offered by default
  page.instance.onPurpose({ detail: '入住酒店登记' })
  for (const f of page.data.fields) if (f.name !== 'name' && page.data.chosen[f.name]) page.instance.toggle({ currentTarget: { dataset: { name: f.name } } })
  await page.instance.show()
  expect(fs.statSync(page.data.qrSrc).size).toBeGreaterThan(100)
  const usage = (await api.get('/api/v1/wallet/usage')).items[0]
  expect(usage.action).toBe('shared')
  expect(usage.purpose).toBe('入住酒店登记')
  page.detach()
})

test('an application withdrawn from its page; 我的 then has nothing pending', async () => {
  const app = (await api.get('/api/v1/applications')).items[0]
  const page = renderPage('affairs/application', { id: app.id })
  await page.instance.ready
  await until(() => page.data.a, 'the application')
  expect(page.data.canWithdraw).toBe(true)
  page.instance.withdraw()
  await until(() => page.data.a.state === 'withdrawn', 'withdrawn')
  expect(calls).toContainEqual(['showModal', '撤回申请'])
  expect(page.data.finishedAt).toMatch(/^\d{4}-\d{2}-\d{2} \d{2}:\d{2}$/)
  page.detach()
  const close = renderPage('me/close')
  await close.instance.ready
  await until(() => close.data.p, 'the closure preview')
  expect(close.data.p.can_close).toBe(true)
  expect(text(close)).toContain('注销后将删除')
  close.detach()
})

test('face verification on the phone raises the account to the highest level', async () => {
  const page = renderPage('me/face')
  await page.instance.ready
  await page.instance.start()
  expect(calls.find((c) => c[0] === 'startFacialRecognitionVerify')[1]).toBe(world.verified.name) // the full name, revealed for it
  expect(page.data.state).toBe('done')
  expect((await api.get('/api/v1/me')).level).toBe(3)
  page.detach()
})
