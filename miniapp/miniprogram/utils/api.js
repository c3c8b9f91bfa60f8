// One API client for every page: base URL from config, tokens kept in storage and rotated
// on refresh, problem+json errors mapped to their Chinese title and field messages, and a
// failed create retried once with the same Idempotency-Key (so a retry never duplicates).
// 亲友代办: while acting for a family member the acting token (from POST /api/v1/auth/act-as)
// is kept in its own slot next to the person's own tokens and sent instead of them; it is
// short-lived and re-issued with the own token when it expires; a revoked or expired grant
// switches back to the own token at once, saying so.
const config = require('../config')
const { t } = require('./i18n')

const KEYS = { access: 'superapp.access', refresh: 'superapp.refresh', acting: 'superapp.acting' }

class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || '请求失败，请稍后重试')
    this.problem = problem
    this.status = status
    this.code = problem.code
    this.title = problem.title || '请求失败'
    this.fields = {}
    for (const e of problem.errors || []) {
      this.fields[e.field] = e.message
      this.fields[String(e.field).split('.').pop()] = e.message
    }
  }

  // what a person is shown: what to fix (the first field's message), else the sentence the
  // server wrote for people — never a generic title such as "请求参数有误" or a code
  get display() {
    const first = (this.problem.errors || [])[0]
    if (first) return first.message
    const detail = this.problem.detail || ''
    return detail && !/^请求(参数|体|无法)/.test(detail) ? detail : t('api.unavailable')
  }
}

// who is told when acting starts or stops (the banners on the pages open now)
const actingListeners = new Set()
function onActingChange(fn) { actingListeners.add(fn); return () => actingListeners.delete(fn) }
const actingChanged = () => actingListeners.forEach((fn) => fn())

const session = {
  // the token requests carry: the acting one while acting for a family member, else the own
  get access() { const a = session.acting; return a ? a.access_token : session.own },
  get own() { return wx.getStorageSync(KEYS.access) || '' },
  get refresh() { return wx.getStorageSync(KEYS.refresh) || '' },
  // {access_token, person: {person_id, name (masked), kind, scopes}} while acting, else null
  get acting() { const a = wx.getStorageSync(KEYS.acting); return a && a.access_token ? a : null },
  save(t) {
    if (t.access_token) wx.setStorageSync(KEYS.access, t.access_token)
    if (t.refresh_token) wx.setStorageSync(KEYS.refresh, t.refresh_token)
  },
  // the answer of act-as {person_id}: acting from now on (the own tokens are kept as they are)
  act(r) { wx.setStorageSync(KEYS.acting, { access_token: r.access_token, person: r.acting_person }); actingChanged() },
  stopActing() { const was = !!session.acting; wx.removeStorageSync(KEYS.acting); if (was) actingChanged() },
  clear() { wx.removeStorageSync(KEYS.access); wx.removeStorageSync(KEYS.refresh); session.stopActing() },
  loggedIn() { return !!wx.getStorageSync(KEYS.access) },
}

function newIdempotencyKey() {
  const hex = []
  for (let i = 0; i < 16; i += 1) hex.push(Math.floor(Math.random() * 256).toString(16).padStart(2, '0'))
  return hex.join('') + Date.now().toString(16)
}

// wx.request as a promise that resolves with {statusCode, data, header} or rejects on a
// network failure (no response at all)
function send(options) {
  return new Promise((resolve, reject) => {
    wx.request({ ...options, success: resolve, fail: (err) => reject(err) })
  })
}

let refreshing = null
function refreshTokens() {
  if (!session.refresh) return Promise.resolve(false)
  // one refresh at a time: the refresh token rotates, presenting the old one twice later
  // would look like theft and revoke the whole session
  refreshing = refreshing || send({
    url: `${config.baseUrl}/api/v1/auth/refresh`, method: 'POST', header: { 'content-type': 'application/json' },
    data: { refresh_token: session.refresh },
  }).then((r) => {
    if (r.statusCode !== 200) { session.clear(); return false }
    session.save(r.data)
    return true
  }, () => false).finally(() => { refreshing = null })
  return refreshing
}

// The grant behind an acting token was revoked or has ended: back to the own token, told
// plainly (once, however many requests were refused), every page started again as oneself.
function revoked(acting) {
  const current = session.acting
  if (!current || current.access_token !== acting.access_token) return
  session.stopActing()
  wx.showModal({
    title: t('api.revokedTitle'), showCancel: false, confirmText: t('api.ok'),
    content: t('api.revokedText', { name: acting.person.name }),
    success: () => wx.reLaunch({ url: '/pages/index/index' }),
  })
}

function revokedError(acting, body) {
  const err = new ApiError({ ...(body || {}), code: 'authorization_revoked', errors: [],
    detail: t('api.revokedError', { name: acting.person.name }) }, 403)
  err.handled = true // the modal said it
  return err
}

// An expired acting token: a new one from act-as with the own token (one at a time). 'ok',
// 'revoked' (the grant no longer holds: switched back) or 'failed'.
let renewing = null
function renewActing(acting) {
  renewing = renewing || request('/api/v1/auth/act-as', { method: 'POST', data: { person_id: acting.person.person_id }, own: true })
    .then((r) => {
      const current = session.acting
      if (current && current.person.person_id === acting.person.person_id) session.act(r)
      return 'ok'
    }, (err) => {
      if (err.status === 403) { revoked(acting); return 'revoked' }
      return 'failed'
    }).finally(() => { renewing = null })
  return renewing
}

// raw: the answer is bytes (an image), returned as an ArrayBuffer
// anonymous: sent without the login (an anonymous 举报 must not carry who sent it)
// own: with the person's own token even while acting for someone (act-as, logout)
async function request(path, options = {}) {
  const { method = 'GET', data, header = {}, idempotencyKey, raw = false, retried = false, anonymous = false, own = false } = options
  const headers = { Accept: 'application/json', ...header }
  // JSON unless the caller sends bytes with their own content type (uploads)
  const bytes = Object.prototype.toString.call(data) === '[object ArrayBuffer]'
  if (data !== undefined && !bytes && !headers['content-type']) headers['content-type'] = 'application/json'
  const acting = anonymous || own ? null : session.acting
  const token = anonymous ? '' : acting ? acting.access_token : session.own
  if (token) headers.Authorization = `Bearer ${token}`
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
  let resp
  try {
    resp = await send({ url: `${config.baseUrl}${path}`, method, data, header: headers, responseType: raw ? 'arraybuffer' : 'text' })
  } catch (err) {
    if (idempotencyKey && !retried) return request(path, { ...options, retried: true })
    throw new ApiError({ title: t('api.networkTitle'), detail: t('api.network'), code: 'network' }, 0)
  }
  let body = resp.data
  if (typeof body === 'string' && body) { try { body = JSON.parse(body) } catch (e) { /* not JSON */ } }
  const code = body && typeof body === 'object' ? body.code : ''
  if (resp.statusCode === 401 && !retried && code === 'token_expired') {
    if (!acting && (await refreshTokens())) return request(path, { ...options, retried: true })
    if (acting) {
      const renewed = await renewActing(acting)
      if (renewed === 'ok') return request(path, { ...options, retried: true })
      if (renewed === 'revoked') throw revokedError(acting, body)
    }
  }
  if (resp.statusCode === 403 && acting && code === 'authorization_revoked') {
    revoked(acting)
    throw revokedError(acting, body)
  }
  if (resp.statusCode >= 400) {
    throw new ApiError(body && typeof body === 'object' ? body : { title: '请求失败', code: 'http_' + resp.statusCode }, resp.statusCode)
  }
  return body === '' ? null : body
}

// 亲友代办: act for a family member (their grant to me must be active); switchBack: myself again
async function actFor(personId) {
  const r = await request('/api/v1/auth/act-as', { method: 'POST', data: { person_id: personId }, own: true })
  session.act(r)
  return r.acting_person
}

function switchBack() {
  session.stopActing()
  wx.showToast({ title: t('api.switchedBack'), icon: 'none' })
  wx.reLaunch({ url: '/pages/index/index' })
}

const api = {
  get: (path, opts) => request(path, { ...opts, method: 'GET' }),
  post: (path, data, opts) => request(path, { ...opts, method: 'POST', data }),
  patch: (path, data, opts) => request(path, { ...opts, method: 'PATCH', data }),
  del: (path, data, opts) => request(path, { ...opts, method: 'DELETE', data }),
  // create with an Idempotency-Key: pass the same key again to retry the same create
  create: (path, data, key, opts) => request(path, { ...opts, method: 'POST', data, idempotencyKey: key }),
}

// The versions of the 用户协议 and 隐私政策 the person agreed to on the login page.
async function agreements() {
  const r = await api.get('/api/v1/agreements')
  return { docs: r.items, versions: Object.fromEntries(r.items.map((d) => [d.kind, d.version])) }
}

// what a person is told about a failure, in plain Chinese
function errorText(err) {
  return err && err.problem ? err.display : t('api.failed')
}

function showError(err) {
  if (err && err.handled) return
  wx.showToast({ title: errorText(err).slice(0, 40), icon: 'none', duration: 2500 })
}

// WeChat's subscribe-message request (one tap), asked right before a submission the person
// will want to hear about; whatever they answer, the submission goes on.
function askForNotifications() {
  return new Promise((resolve) => {
    wx.requestSubscribeMessage({ tmplIds: [config.subscribeTemplateId], complete: resolve })
  })
}

// Pick a photo (wx.chooseMedia) or a PDF from a chat (wx.chooseMessageFile) and upload it
// as the raw body of POST /api/v1/uploads; the server checks the type by content. Null when
// the person picked nothing.
const TYPES = { jpg: 'image/jpeg', jpeg: 'image/jpeg', png: 'image/png', pdf: 'application/pdf' }

function choose() {
  return new Promise((resolve) => {
    wx.showActionSheet({
      itemList: ['拍照或从相册选择', '从聊天记录选择 PDF'],
      success: ({ tapIndex }) => {
        if (tapIndex === 0) {
          wx.chooseMedia({ count: 1, mediaType: ['image'], sizeType: ['compressed'],
            success: (r) => resolve(r.tempFiles[0].tempFilePath), fail: () => resolve(null) })
        } else {
          wx.chooseMessageFile({ count: 1, type: 'file', extension: ['pdf'],
            success: (r) => resolve(r.tempFiles[0].path), fail: () => resolve(null) })
        }
      },
      fail: () => resolve(null),
    })
  })
}

async function uploadFile() {
  const path = await choose()
  if (!path) return null
  const ext = path.split('.').pop().toLowerCase()
  const data = wx.getFileSystemManager().readFileSync(path)
  const name = `upload.${ext}`
  return request(`/api/v1/uploads?filename=${encodeURIComponent(name)}`, {
    method: 'POST', data, header: { 'content-type': TYPES[ext] || 'application/octet-stream' },
  })
}


module.exports = {
  api, request, session, refreshTokens, actFor, switchBack, onActingChange, ApiError, newIdempotencyKey, showError, errorText, askForNotifications, uploadFile, agreements, config,
}
