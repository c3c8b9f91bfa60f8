// The part of the WeChat runtime the API client uses, for Node: storage in memory,
// wx.request over real HTTP (Node's fetch) to the real backend, wx.login returning the code
// the fake WeChat API accepts. `dropResponses(n)` makes the next n requests reach the server
// but lose their answer (what a flaky mobile network does), to test idempotent retries.
const store = new Map()
let drop = 0

const wx = {
  loginCode: '',
  getStorageSync: (k) => (store.has(k) ? store.get(k) : ''),
  setStorageSync: (k, v) => { store.set(k, v) },
  removeStorageSync: (k) => { store.delete(k) },
  login({ success }) { success({ code: wx.loginCode, errMsg: 'login:ok' }) },
  showToast() {},
  request({ url, method = 'GET', data, header = {}, responseType, success, fail }) {
    let body
    if (data instanceof ArrayBuffer) body = Buffer.from(data)
    else if (data !== undefined) body = typeof data === 'string' ? data : JSON.stringify(data)
    fetch(url, { method, headers: header, body }).then(async (r) => {
      const buf = Buffer.from(await r.arrayBuffer())
      if (drop > 0) { drop -= 1; fail({ errMsg: 'request:fail timeout' }); return }
      const text = buf.toString('utf8')
      let payload = text
      if (responseType === 'arraybuffer') payload = buf.buffer.slice(buf.byteOffset, buf.byteOffset + buf.length)
      else if ((r.headers.get('content-type') || '').includes('json')) payload = JSON.parse(text) // dataType 'json'
      success({ statusCode: r.status, header: Object.fromEntries(r.headers), data: payload })
    }, (err) => fail({ errMsg: `request:fail ${err.message}` }))
  },
}

module.exports = { wx, dropResponses: (n) => { drop = n }, store }
