/**
 * @jest-environment node
 */
// The shared API client against the real backend (started by tests/superapp/test_miniapp.py on the
// embedded servers): WeChat login and phone binding, error mapping, token refresh with
// rotation, and a create retried with the same Idempotency-Key after a lost response.
const fs = require('fs')
const { wx, dropResponses, store } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { api, request, session, refreshTokens, ApiError, newIdempotencyKey, agreements } = require('../miniprogram/utils/api')

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')

test('WeChat login, phone binding and real-name; problems come back in Chinese, field by field', async () => {
  wx.loginCode = `test-mp-${Date.now()}`
  const { versions } = await agreements()
  const login = await api.post('/api/v1/auth/wechat/miniapp', { code: wx.loginCode, agreements: versions })
  session.save(login)
  expect(login.person.level).toBe(0)
  const bound = await api.post('/api/v1/auth/wechat/phone', { code: `test-${world.resident.phone}` })
  session.save(bound)
  expect(bound.person.level).toBe(1)

  const bad = await api.post('/api/v1/me/realname', { name: world.resident.name, id_number: '440106199003153011' }).catch((e) => e)
  expect(bad).toBeInstanceOf(ApiError)
  expect(bad.status).toBe(400)
  expect(bad.title).toMatch(/[\u4e00-\u9fa5]/)
  expect(bad.fields.id_number).toMatch(/[\u4e00-\u9fa5]/)
  expect(bad.display).toBe(bad.fields.id_number) // what to fix, without a generic title

  const ok = await api.post('/api/v1/me/realname', { name: world.resident.name, id_number: world.resident.id_number })
  session.save(ok)
  expect((await api.get('/api/v1/me')).level).toBe(2)
})

test('an expired access token is refreshed once, even by concurrent calls, and the rotated token is kept', async () => {
  const mine = { access: session.access, refresh: session.refresh }
  store.set('superapp.access', world.expired.access_token)
  store.set('superapp.refresh', world.expired.refresh_token)
  try {
    const [a, b] = await Promise.all([api.get('/api/v1/me'), api.get('/api/v1/consents')])
    expect(a.id).toBe(world.expired.person_id)
    expect(Array.isArray(b.items)).toBe(true)
    expect(session.refresh).not.toBe(world.expired.refresh_token) // rotated
    expect(session.access).not.toBe(world.expired.access_token)
    // the family is intact: the new refresh token works (a double rotation would have revoked it)
    expect(await refreshTokens()).toBe(true)
  } finally {
    store.set('superapp.access', mine.access)
    store.set('superapp.refresh', mine.refresh)
  }
})

test('a create whose answer was lost is retried with the same Idempotency-Key: one application', async () => {
  const up = await request('/api/v1/uploads?filename=photo.png', { method: 'POST', data: PNG.buffer.slice(PNG.byteOffset, PNG.byteOffset + PNG.length), header: { 'content-type': 'image/png' } })
  expect(up.content_type).toBe('image/png')
  const prefill = await api.get('/api/v1/matters/440100-RS-0033/prefill')
  const idCard = prefill.materials.find((m) => m.id === 'id_card')
  expect(idCard.satisfied_by_wallet).toBe(true) // 免证办
  const body = { matter: '440100-RS-0033', form: { ...prefill.form, bank: '建设银行' },
    materials: [{ id: 'id_card', certificate_id: idCard.certificate_id }, { id: 'photo', upload_id: up.id }] }
  dropResponses(1)
  const app = await api.create('/api/v1/applications', body, newIdempotencyKey())
  expect(app.state).toBe('submitted')
  const mine = (await api.get('/api/v1/applications')).items
  expect(mine.map((a) => a.id)).toEqual([app.id])
  // without a key nothing is retried: the lost answer is a network error for the page to show
  dropResponses(1)
  const err = await api.get('/api/v1/me').catch((e) => e)
  expect(err).toBeInstanceOf(ApiError)
  expect(err.code).toBe('network')
  expect(err.display).toContain('网络')
})
