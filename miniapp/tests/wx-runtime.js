// The part of the WeChat runtime the client and pages use, for Node: storage in memory,
// wx.request over real HTTP (node:http) to the real backend, wx.login returning the code the
// fake WeChat API accepts, files in a temporary folder, and UI calls recorded (toasts,
// navigation) for the tests to look at. `dropResponses(n)` makes the next n requests reach
// the server but lose their answer (what a flaky mobile network does).
const fs = require('fs')
const http = require('http')
const os = require('os')
const path = require('path')

const store = new Map()
const calls = []
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
  getScreenBrightness({ success }) { success({ value: 0.4 }) },
  setScreenBrightness(o) { calls.push(['setScreenBrightness', o.value]) },
  vibrateShort() {},
  showToast(o) { calls.push(['showToast', o.title]) },
  showActionSheet({ success }) { success({ tapIndex: 0 }) },
  chooseMedia({ success, fail }) { if (chooseFile) success({ tempFiles: [{ tempFilePath: chooseFile }] }); else fail({}) },
  chooseMessageFile({ fail }) { fail({}) },
  requestSubscribeMessage(o) { calls.push(['requestSubscribeMessage', o.tmplIds]); if (o.complete) o.complete({}) },
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

module.exports = { wx, dropResponses: (n) => { drop = n }, store, calls, willChoose }
