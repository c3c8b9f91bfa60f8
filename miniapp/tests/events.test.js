// The home page hears a kiosk's consent request over the events socket (wx.connectSocket to
// the real backend), without polling; after the socket was down, the request asked meanwhile
// comes on reconnect; a revoked login closes it (4401) and sends the person to log in.
const fs = require('fs')
const http = require('http')
const { wx, store, calls, sockets } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, detachAll } = require('./page-host')

function kiosk(path, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(`${world.base_url}${path}`, { method: 'POST', headers: {
      'Content-Type': 'application/json', Authorization: `Bearer ${world.kiosk_token}` } }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, body: JSON.parse(Buffer.concat(chunks).toString() || '{}') }))
    })
    req.on('error', reject)
    req.end(JSON.stringify(body))
  })
}

async function askConsent(page) {
  await until(() => page.data.code, 'the code')
  const scan = await kiosk('/api/v1/scans', { code: page.data.code.code })
  expect(scan.status).toBe(200)
  const asked = await kiosk(`/api/v1/scans/${scan.body.scan_id}/requests`, { purpose: '办理居住证', items: ['identity:name'] })
  expect(asked.status).toBe(201)
  return asked.body.id
}

afterEach(detachAll)

beforeAll(() => {
  store.set('superapp.access', world.live.access_token)
  store.set('superapp.refresh', world.live.refresh_token)
})

test('a consent request arrives live, then one asked while the socket was down comes on reconnect', async () => {
  const page = renderPage('index')
  await page.instance.ready
  await until(() => page.data.live, 'the socket open')
  expect(page.instance.poll).toBeFalsy() // no polling while it is open
  const first = await askConsent(page)
  await until(() => page.data.consents.some((c) => c.id === first), 'the live consent request', 8000)
  expect(page.data.notice).toMatch(/请求使用您的信息/)

  // the network drops: the page polls meanwhile, and the socket comes back by itself
  sockets[sockets.length - 1].sock.terminate()
  await until(() => !page.data.live, 'the socket down')
  expect(page.instance.poll).toBeTruthy()
  await until(() => page.data.live, 'the socket back', 8000)
  expect(page.instance.poll).toBeFalsy()
  expect(store.get('superapp.events.since')).toMatch(/^\d+-\d+$/)
  page.detach()
})

test('a login revoked elsewhere closes the socket with 4401 and goes back to the login page', async () => {
  const page = renderPage('index')
  await page.instance.ready
  await until(() => page.data.live, 'the socket open')
  const task = sockets[sockets.length - 1]
  const closed = new Promise((resolve) => task.sock.on('close', (code) => resolve(code)))
  // "退出所有设备" from another device of the same person
  await new Promise((resolve, reject) => {
    const req = http.request(`${world.base_url}/api/v1/auth/logout-all`, { method: 'POST',
      headers: { Authorization: `Bearer ${store.get('superapp.access')}` } }, (res) => { res.resume(); res.on('end', resolve) })
    req.on('error', reject)
    req.end()
  })
  expect(await closed).toBe(4401)
  await until(() => calls.some((c) => c[0] === 'reLaunch' && c[1] === '/pages/login/index'), 'back to login')
  expect(store.has('superapp.access')).toBe(false)
  page.detach()
})
