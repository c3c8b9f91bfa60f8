// The part of the WeChat runtime the client and pages use, for Node: storage in memory,
// wx.request over real HTTP (node:http) to the real backend, wx.login returning the code the
// fake WeChat API accepts, files in a temporary folder, and UI calls recorded (toasts,
// navigation) for the tests to look at. `dropResponses(n)` makes the next n requests reach
// the server but lose their answer (what a flaky mobile network does).
const fs = require('fs')
const http = require('http')
const path = require('path')
// Node's ws (under jsdom, require('ws') would give its browser stub)
const WebSocket = require(path.join(path.dirname(require.resolve('ws/package.json')), 'index.js'))
const os = require('os')

const store = new Map()
const calls = []
const sockets = []
const files = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-'))
let drop = 0
let chooseFile = null

function httpRequest(url, method, headers, body) {
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method, headers }, (res) => {
      const chunks = []
      res.on('data', (c) => chunks.push(c))
      res.on('end', () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }))
    })
    req.on('error', reject)
    if (body !== undefined) req.write(body)
    req.end()
  })
}

const wx = {
  loginCode: '',
  getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
  setStorageSync: (k, v) => { store.set(k, v) },
  removeStorageSync: (k) => { store.delete(k) },
  login({ success }) { success({ code: wx.loginCode, errMsg: 'login:ok' }) },
  request({ url, method = 'GET', data, header = {}, responseType, success, fail }) {
    let body
    // (tag check, not instanceof: under jsdom the bytes may come from Node's realm)
    if (Object.prototype.toString.call(data) === '[object ArrayBuffer]') body = Buffer.from(new Uint8Array(data))
    else if (data !== undefined) body = typeof data === 'string' ? data : JSON.stringify(data)
    httpRequest(url, method, header, body).then((r) => {
      if (drop > 0) { drop -= 1; fail({ errMsg: 'request:fail timeout' }); return }
      const buf = r.body
      const text = buf.toString('utf8')
      let payload = text
      if (responseType === 'arraybuffer') payload = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)
      else if ((r.headers['content-type'] || '').includes('json')) payload = JSON.parse(text) // dataType 'json'
      success({ statusCode: r.status, header: r.headers, data: payload })
    }, (err) => fail({ errMsg: `request:fail ${err.message}` }))
  },
  env: { USER_DATA_PATH: files },
  getFileSystemManager() {
    return {
      writeFileSync: (p, data) => fs.writeFileSync(p, Buffer.from(data)),
      readFileSync: (p) => { const b = fs.readFileSync(p); return b.buffer.slice(b.byteOffset, b.byteOffset + b.length) },
    }
  },
  // the phone's language (WeChat's zh_CN, zh_TW, zh_HK, en…): a test may change it
  systemLanguage: 'zh_CN',
  getAppBaseInfo: () => ({ language: wx.systemLanguage, SDKVersion: '3.5.0' }),
  getSystemInfoSync: () => ({ language: wx.systemLanguage, SDKVersion: '3.5.0' }),
  setTabBarItem(o) { calls.push(['setTabBarItem', o.index, o.text]) },
  getScreenBrightness({ success }) { success({ value: 0.4 }) },
  setScreenBrightness(o) { calls.push(['setScreenBrightness', o.value]) },
  vibrateShort() {},
  showToast(o) { calls.push(['showToast', o.title]) },
  showActionSheet({ success }) { success({ tapIndex: 0 }) },
  chooseMedia({ success, fail }) { if (chooseFile) success({ tempFiles: [{ tempFilePath: chooseFile }] }); else fail({}) },
  chooseMessageFile({ fail }) { fail({}) },
  requestSubscribeMessage(o) { calls.push(['requestSubscribeMessage', o.tmplIds]); if (o.complete) o.complete({}) },
  showModal(o) { calls.push(['showModal', o.title]); if (o.success) o.success({ confirm: true, cancel: false }) },
  pageScrollTo(o) { calls.push(['pageScrollTo', o.selector]) },
  setNavigationBarTitle(o) { calls.push(['setNavigationBarTitle', o.title]) },
  onNeedPrivacyAuthorization(cb) { calls.push(['onNeedPrivacyAuthorization']); wx.privacyRequest = cb },
  // the face check on the phone: in the development provider this result passes
  startFacialRecognitionVerify(o) { calls.push(['startFacialRecognitionVerify', o.name]); o.success({ verifyResult: 'dev-face-pass', errCode: 0 }) },
  // a real WebSocket (the ws package), with the SocketTask's callbacks
  connectSocket({ url, header = {} }) {
    const sock = new WebSocket(url, { headers: header })
    const task = { sock, onOpen: (f) => sock.on('open', () => f({})), onMessage: (f) => sock.on('message', (d) => f({ data: String(d) })),
      onClose: (f) => sock.on('close', (code, reason) => f({ code, reason: String(reason) })), onError: (f) => sock.on('error', (e) => f({ errMsg: e.message })),
      close: ({ code = 1000 } = {}) => sock.close(code), send: ({ data }) => sock.send(data) }
    sockets.push(task)
    return task
  },
  setClipboardData(o) { calls.push(['setClipboardData', o.data]) },
  navigateTo(o) { calls.push(['navigateTo', o.url]) },
  redirectTo(o) { calls.push(['redirectTo', o.url]) },
  reLaunch(o) { calls.push(['reLaunch', o.url]) },
  switchTab(o) { calls.push(['switchTab', o.url]) },
}

// the next wx.chooseMedia picks this file (written into the temporary folder)
function willChoose(name, bytes) {
  chooseFile = path.join(files, name)
  fs.writeFileSync(chooseFile, bytes)
}

module.exports = { wx, dropResponses: (n) => { drop = n }, store, calls, willChoose, sockets }
