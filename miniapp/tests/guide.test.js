// The matter guide's 情形, places and phones, against the real backend: 补领结婚证
// (440100-MZ-0005) asks 结婚证遗失 or 结婚证损毁 before 在线办理; the choice decides the materials
// and the form (遗失: the 遗失情况说明 required; 损毁: the photo of the damaged certificate), is
// sent with the application and shown on it. The halls handling the matter open the hall page
// with it chosen; the 咨询 and 监督投诉 phones call.
const fs = require('fs')
const { wx, store, calls, willChoose } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll, simulate } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const MARRIAGE = '440100-MZ-0005' // 补领结婚证
const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
const SPOUSE = { spouse_name: '配偶某', spouse_id_number: '44010619900101002X', registration_date: '2015-05-20' }

// (the simulator took the runtime's wx calls into its own wx object: the additions go there)
Object.assign(global.wx, {
  makePhoneCall: (o) => calls.push(['makePhoneCall', o.phoneNumber]),
  getLocation: (o) => o.fail({ errMsg: 'getLocation:fail auth deny' }), // the hall page, not located here
})

const since = (n) => calls.slice(n)
const toasts = (n = 0) => since(n).filter((c) => c[0] === 'showToast').map((c) => c[1])
// a tap on a view, or inside a (stand-in) Vant cell or button, as a finger gives it
async function tap(node) {
  const inner = node.querySelector('.van-cell') || node.querySelector('.van-button')
  ;(inner || node).dispatchEvent('tap')
  await simulate.sleep(30)
}

afterEach(detachAll)

beforeAll(() => {
  store.set('superapp.access', world.guide.access_token)
  store.set('superapp.refresh', world.guide.refresh_token)
})

// fills the form the way a person does: typed fields (van-field change) and the date picker
function fill(page, values) {
  for (const [key, value] of Object.entries(values)) {
    const field = page.data.fields.find((f) => f.key === key)
    if (field.date) page.instance.onPick({ currentTarget: { dataset: { key } }, detail: { value } })
    else page.instance.onField({ currentTarget: { dataset: { key, type: field.type } }, detail: value })
  }
}

async function uploadFor(page, id) {
  willChoose(`${id}.png`, PNG)
  await page.instance.upload({ currentTarget: { dataset: { id } } })
  expect(page.data.uploads[id]).toMatch(/^f[0-9a-f]{24}$/)
}

test('the guide: 情形 first (在线办理 waits for it), the materials it asks for, the halls and the phones', async () => {
  const page = renderPage('affairs/matter', { code: MARRIAGE })
  await page.instance.ready
  const shown = text(page)
  for (const s of ['办理情形', '结婚证遗失', '结婚证丢失或被盗，需说明遗失情况', '结婚证损毁', '结婚证破损、污损无法辨认，办理时交回原证']) {
    expect(shown).toContain(s)
  }
  // nothing chosen: every material, the damaged certificate saying when it is needed; 在线办理 waits
  expect(page.data.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo', 'damaged_certificate'])
  expect(shown).toContain('仅“结婚证损毁”时需要')
  expect(shown).toContain('请先在上方选择办理情形')
  const mark = calls.length
  await tap(page.querySelector('#apply'))
  expect(since(mark).filter((c) => c[0] === 'navigateTo')).toEqual([]) // disabled

  // 办理地点与时间: the halls whose windows handle it (Tianhe and the city hall, not Yuexiu), with hours
  expect(page.data.places.map((p) => p.name).sort()).toEqual(['天河区政务服务中心', '广州市政务服务中心'].sort())
  expect(shown).toContain('办理地点与时间')
  expect(shown).toContain('广州市天河区天府路 1 号')
  expect(shown).not.toContain('越秀区政务服务中心')
  const tianhe = page.data.places.findIndex((p) => p.hall_id === world.halls.hall)
  expect(page.data.places[tianhe].hours).toMatch(/工作日/)
  // 咨询电话 and 监督投诉电话 call
  expect(shown).toContain('咨询电话 020-83123210')
  expect(shown).toContain('监督投诉电话 12345')
  await tap(page.querySelector('#consult-phone'))
  await tap(page.querySelector('#complaint-phone'))
  expect(since(mark).filter((c) => c[0] === 'makePhoneCall')).toEqual([['makePhoneCall', '020-83123210'], ['makePhoneCall', '12345']])

  // a hall opens its page with the matter chosen
  await tap(page.querySelectorAll('.place')[tianhe])
  const url = since(mark).filter((c) => c[0] === 'navigateTo').pop()[1]
  expect(url).toBe(`/halls/hall/index?id=${world.halls.hall}&matter=${MARRIAGE}`)
  const [, qs] = url.split('?')
  const hall = renderPage('halls/hall', Object.fromEntries(new URLSearchParams(qs)))
  await hall.instance.ready
  expect(hall.data.h.name).toBe('天河区政务服务中心')
  expect(hall.data.matter).toMatchObject({ code: MARRIAGE, name: '补领结婚证' })
  hall.detach()

  // 结婚证遗失 chosen: its materials (no damaged certificate), 在线办理 carries the choice
  await tap(page.querySelectorAll('.situation')[0])
  expect(page.data.situation).toBe('lost')
  expect(page.data.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo'])
  expect(text(page)).toContain('申请材料（结婚证遗失）')
  expect(text(page)).not.toContain('请先在上方选择办理情形')
  await tap(page.querySelector('#apply'))
  expect(since(mark).filter((c) => c[0] === 'navigateTo').pop()[1]).toBe(`/affairs/apply/index?code=${MARRIAGE}&situation=lost`)
  // and 损毁 instead: the damaged certificate is asked for
  await tap(page.querySelectorAll('.situation')[1])
  expect(page.data.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo', 'damaged_certificate'])
  expect(text(page)).not.toContain('仅“结婚证损毁”时需要')
  page.detach()
})

test('结婚证遗失: the loss note is asked for and required, the situation is sent and shown on the application', async () => {
  const before = (await api.get('/api/v1/applications')).items.length
  const page = renderPage('affairs/apply', { code: MARRIAGE, situation: 'lost' })
  await page.instance.ready
  expect(text(page)).toContain('办理情形 结婚证遗失')
  expect(page.data.fields.map((f) => f.key)).toEqual(['name', 'spouse_name', 'spouse_id_number', 'registration_date', 'loss_note'])
  expect(page.data.fields.find((f) => f.key === 'loss_note')).toMatchObject({ title: '遗失情况说明', required: true, long: true })
  expect(page.data.form.name).toBe(world.guide.name)
  expect(page.data.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo'])
  expect(text(page)).toContain('✓ 免证办') // the ID card from the wallet
  expect(text(page)).not.toContain('损毁的结婚证')
  fill(page, SPOUSE)
  await uploadFor(page, 'photo')

  // without the note the server refuses it, and the page says what to write where
  await page.instance.submit()
  expect(page.data.errors.loss_note).toBeTruthy()
  expect(text(page)).toContain(page.data.errors.loss_note)
  expect(calls.filter((c) => c[0] === 'redirectTo')).toEqual([])
  expect((await api.get('/api/v1/applications')).items).toHaveLength(before)

  fill(page, { loss_note: '2024 年搬家时遗失' })
  await page.instance.submit()
  const redirect = calls.filter((c) => c[0] === 'redirectTo').pop()
  expect(redirect[1]).toMatch(/^\/affairs\/application\/index\?id=a[0-9a-f]{24}$/)
  const id = redirect[1].split('id=')[1]
  const a = await api.get(`/api/v1/applications/${id}`)
  expect(a.situation).toEqual({ id: 'lost', name: '结婚证遗失' })
  expect(a.form).toMatchObject({ ...SPOUSE, loss_note: '2024 年搬家时遗失', name: world.guide.name })
  expect(a.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo']) // the materials of 遗失
  page.detach()

  const detail = renderPage('affairs/application', { id })
  await detail.instance.ready
  await until(() => detail.data.a, 'the application')
  expect(text(detail)).toContain('办理情形 结婚证遗失')
  detail.detach()
})

test('结婚证损毁: no loss note, the photo of the damaged certificate is required before submitting', async () => {
  const before = (await api.get('/api/v1/applications')).items.length
  const page = renderPage('affairs/apply', { code: MARRIAGE, situation: 'damaged' })
  await page.instance.ready
  expect(text(page)).toContain('办理情形 结婚证损毁')
  expect(page.data.fields.map((f) => f.key)).not.toContain('loss_note')
  const damaged = page.data.materials.find((m) => m.id === 'damaged_certificate')
  expect(damaged).toMatchObject({ name: '损毁的结婚证（照片，办理时交回原证）', required: true, satisfied_by_wallet: false })
  expect(text(page)).toContain('损毁的结婚证（照片，办理时交回原证）')
  fill(page, SPOUSE)
  await uploadFor(page, 'photo')
  const mark = calls.length
  await page.instance.submit() // the damaged certificate not uploaded: asked for, nothing sent
  expect(toasts(mark)).toEqual(['请先上传必交的材料'])
  expect(text(page)).toContain('还缺少材料：损毁的结婚证（照片，办理时交回原证）')
  expect((await api.get('/api/v1/applications')).items).toHaveLength(before)

  await uploadFor(page, 'damaged_certificate')
  expect(page.data.missing).toBe('')
  await page.instance.submit()
  const id = calls.filter((c) => c[0] === 'redirectTo').pop()[1].split('id=')[1]
  const a = await api.get(`/api/v1/applications/${id}`)
  expect(a.situation).toEqual({ id: 'damaged', name: '结婚证损毁' })
  expect(a.materials.map((m) => m.id)).toEqual(['id_card', 'hukou', 'photo', 'damaged_certificate'])
  expect(a.form).not.toHaveProperty('loss_note')
  page.detach()
})

test('without a 情形, or with one the matter does not have, the form sends the person back to choose', async () => {
  for (const query of [{ code: MARRIAGE }, { code: MARRIAGE, situation: 'stolen' }]) {
    const mark = calls.length
    const page = renderPage('affairs/apply', query)
    await page.instance.ready
    expect(toasts(mark)).toEqual(['请先选择办理情形'])
    expect(since(mark).filter((c) => c[0] === 'redirectTo')).toEqual([['redirectTo', `/affairs/matter/index?code=${MARRIAGE}`]])
    expect(page.data.fields).toEqual([]) // no form to fill
    page.detach()
  }
  // a matter without 情形: no choice, no hint, 在线办理 open
  const guide = renderPage('affairs/matter', { code: '440100-GA-0012' })
  await guide.instance.ready
  expect(text(guide)).not.toContain('办理情形')
  expect(guide.data.places).toHaveLength(3)
  const mark = calls.length
  await tap(guide.querySelector('#apply'))
  expect(since(mark).filter((c) => c[0] === 'navigateTo')).toEqual([['navigateTo', '/affairs/apply/index?code=440100-GA-0012']])
  guide.detach()
})
