// One API client shape for every screen: tokens (rotated on refresh), problem+json errors
// shown as their Chinese title / field messages, Idempotency-Key for creates, the live
// events stream. Residents/portal, kiosks and staff keep separate sessions.

import { friendly } from './messages.js'
import { i18n } from './i18n.js'

export class ApiError extends Error {
  constructor(problem, status) {
    super(problem.detail || problem.title || '请求失败，请稍后重试')
    this.problem = problem
    this.status = status
    this.code = problem.code
    this.title = problem.title || '请求失败'
    // field paths like "body.form.amount" -> message; the last segment is what forms show
    this.fields = {}
    for (const e of problem.errors || []) {
      this.fields[e.field] = e.message
      this.fields[String(e.field).split('.').pop()] = e.message
    }
  }
}

export function newIdempotencyKey() {
  if (crypto.randomUUID) return crypto.randomUUID()
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, '0')).join('')
}

function createClient(ns, refreshPath, store = window.sessionStorage) {
  const k = (name) => `${ns}.${name}`
  const session = {
    get access() { return store.getItem(k('access')) },
    get refresh() { return store.getItem(k('refresh')) },
    save(t) {
      if (t.access_token) store.setItem(k('access'), t.access_token)
      if (t.refresh_token) store.setItem(k('refresh'), t.refresh_token)
    },
    clear() { store.removeItem(k('access')); store.removeItem(k('refresh')); store.removeItem(k('acting')) },
    loggedIn() { return !!store.getItem(k('access')) },
    // 亲友代办: whom the access token acts for ({person_id, name, kind, scopes}), or null
    get acting() { try { return JSON.parse(store.getItem(k('acting'))) } catch { return null } },
    setActing(who, reason = '') {
      if (who) store.setItem(k('acting'), JSON.stringify(who))
      else store.removeItem(k('acting'))
      window.dispatchEvent(new CustomEvent('acting-changed', { detail: { acting: who, reason } }))
    },
  }
  let refreshing = null

  function claims() {
    try {
      return JSON.parse(atob(session.access.split('.')[1].replace(/-/g, '+').replace(/_/g, '/')))
    } catch { return {} }
  }
  function accessExpired() {
    const exp = claims().exp
    return !!exp && exp * 1000 < Date.now() + 5000
  }

  async function refreshTokens() {
    if (!refreshPath || !session.refresh) return false
    // one refresh at a time: the refresh token rotates, a second use would revoke the family
    refreshing = refreshing || (async () => {
      const resp = await fetch(refreshPath, {
        method: 'POST', headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ refresh_token: session.refresh }),
      })
      if (!resp.ok) { session.clear(); return false }
      session.save(await resp.json()) // one's own token again
      const acting = session.acting
      if (acting) { // still acting for someone: ask again with the new token (the grant is checked)
        const again = await fetch('/api/v1/auth/act-as', { method: 'POST', headers: { 'Content-Type': 'application/json',
          Authorization: `Bearer ${session.access}` }, body: JSON.stringify({ person_id: acting.person_id }) })
        if (again.ok) session.save(await again.json())
        else session.setActing(null, 'ended')
      }
      return true
    })().finally(() => { refreshing = null })
    return refreshing
  }

  // anonymous: sent without the login (an anonymous 举报)
  async function request(path, { method = 'GET', body, raw, contentType, idempotencyKey, retry = true, anonymous = false } = {}) {
    const headers = { Accept: 'application/json' }
    if (raw !== undefined) headers['Content-Type'] = contentType || 'application/octet-stream'
    else if (body !== undefined) headers['Content-Type'] = 'application/json'
    if (session.access && !anonymous) headers.Authorization = `Bearer ${session.access}`
    if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
    let resp
    try {
      resp = await fetch(path, { method, headers, body: raw !== undefined ? raw : body === undefined ? undefined : JSON.stringify(body) })
    } catch (e) {
      // network failure: the same Idempotency-Key makes a retry safe
      if (idempotencyKey && retry) return request(path, { method, body, raw, contentType, idempotencyKey, retry: false, anonymous })
      throw new ApiError({ title: '网络异常', detail: '网络连接失败，请检查网络后重试', code: 'network' }, 0)
    }
    if (resp.status === 401 && retry && session.refresh) {
      const problem = await resp.clone().json().catch(() => ({}))
      if (problem.code === 'token_expired' && (await refreshTokens())) {
        return request(path, { method, body, raw, contentType, idempotencyKey, retry: false })
      }
    }
    if (resp.status === 204) return null
    const type = resp.headers.get('Content-Type') || ''
    const data = type.includes('json') ? await resp.json() : await resp.blob()
    // (亲友代办 only: an enterprise's revoked authorisation is the portal's to handle)
    if (resp.status === 403 && data?.code === 'authorization_revoked' && session.refresh
        && (session.acting || claims().act?.person)) {
      // the family member revoked the grant (or it ended): back to one's own account at once.
      // The screens hear of it only once one's own token is in place, so that a page left
      // mid-switch does not load with the revoked token; and a page that did (the note of whom
      // one acts for gone, the token still acting) is mended by the same path.
      store.removeItem(k('acting'))
      await refreshTokens().catch(() => false)
      session.setActing(null, 'revoked')
    }
    if (!resp.ok) throw new ApiError(type.includes('json') ? data : { title: '请求失败' }, resp.status)
    return data
  }

  // Server-sent events; EventSource cannot set headers, so the token goes in the query.
  function events(onEvent) {
    let source = null
    let closed = false
    const open = () => {
      if (closed || !session.access) return
      source = new EventSource(`/api/v1/events?access_token=${encodeURIComponent(session.access)}`)
      for (const type of ['code.scanned', 'consent.requested', 'consent.decided', 'application.progress', 'ticket.progress',
        'queue.progress', 'queue.called', 'hall.called', 'hall.refresh']) {
        source.addEventListener(type, (e) => onEvent(JSON.parse(e.data)))
      }
      source.onerror = async () => {
        source.close()
        if (closed) return
        // refresh only when the access token really expired: an error is also what a page
        // navigation or a dropped network gives, and a needless rotation cut short by an
        // unload would leave the old refresh token behind (its reuse revokes the session)
        if (accessExpired()) await refreshTokens().catch(() => false)
        setTimeout(open, 2000)
      }
    }
    open()
    return { close() { closed = true; if (source) source.close() } }
  }

  return { session, request, events, refreshTokens }
}

export const resident = createClient('resident', '/api/v1/auth/refresh')
export const staff = createClient('staff', '/api/v1/staff/refresh')
export const kiosk = createClient('kiosk', null)

// the resident client is the default one
export const session = resident.session
export const api = resident.request

// What to tell a person about an error (see messages.js): one plain sentence, never a code.
export function errorText(e) {
  return friendly(e)
}

// A certificate's status: its words in the reader's language, and the tag colour.
export const STATUS = {
  valid: 'success', expiring: 'warning', expired: 'danger', suspended: 'danger', revoked: 'danger', superseded: 'default',
}
export const statusType = (s) => STATUS[s] || 'default'
export const statusText = (s) => (s in STATUS ? i18n.global.t(`certStatus.${s}`) : s || i18n.global.t('certStatus.unknown'))

// An application's state in the reader's language (the server's own name when unknown here).
export const appStateText = (a) => (i18n.global.te(`appState.${a.state}`, 'zh-CN') ? i18n.global.t(`appState.${a.state}`) : a.state_name || a.state)

// Times are shown in Beijing time whatever the device's zone (the service's deadlines are).
const BEIJING = new Intl.DateTimeFormat('zh-CN', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit',
  day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false })
export function fmtTime(s) {
  if (s === null || s === undefined || s === '') return ''
  const d = new Date(s)
  if (Number.isNaN(d.getTime())) return String(s)
  const p = Object.fromEntries(BEIJING.formatToParts(d).map((x) => [x.type, x.value]))
  return `${p.year}-${p.month}-${p.day} ${p.hour === '24' ? '00' : p.hour}:${p.minute}`
}

// The account's level in words (no "L2" jargon): 未实名 / 手机号已验证 / 实名认证 / 人脸认证.
export const levelText = (me) => ([0, 1, 2, 3].includes(me?.level) ? i18n.global.t(`level.${me.level}`)
  : String(me?.level_name || '').replace(/^L\d\s*/, ''))
