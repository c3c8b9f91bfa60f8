// One API client for every page: tokens (with rotation on refresh), problem+json errors
// shown as their Chinese title / field messages, Idempotency-Key for creates.

const store = window.sessionStorage

export const session = {
  get access() { return store.getItem('access_token') },
  get refresh() { return store.getItem('refresh_token') },
  save(t) {
    if (t.access_token) store.setItem('access_token', t.access_token)
    if (t.refresh_token) store.setItem('refresh_token', t.refresh_token)
  },
  clear() { store.removeItem('access_token'); store.removeItem('refresh_token') },
  loggedIn() { return !!store.getItem('access_token') },
}

export class ApiError extends Error {
  constructor(problem) {
    super(problem.title || '请求失败')
    this.problem = problem
    this.code = problem.code
    this.fields = Object.fromEntries((problem.errors || []).map((e) => [e.field, e.message]))
  }
  get message() { return this.problem.detail || this.problem.title }
}

async function refreshTokens() {
  if (!session.refresh) return false
  const resp = await fetch('/api/v1/auth/refresh', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ refresh_token: session.refresh }),
  })
  if (!resp.ok) { session.clear(); return false }
  session.save(await resp.json())
  return true
}

export async function api(path, { method = 'GET', body, idempotencyKey, retry = true } = {}) {
  const headers = {}
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  if (session.access) headers.Authorization = `Bearer ${session.access}`
  if (idempotencyKey) headers['Idempotency-Key'] = idempotencyKey
  const resp = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) })
  if (resp.status === 401 && retry && session.refresh) {
    const problem = await resp.clone().json().catch(() => ({}))
    if (problem.code === 'token_expired' && (await refreshTokens())) {
      return api(path, { method, body, idempotencyKey, retry: false })
    }
  }
  if (resp.status === 204) return null
  const type = resp.headers.get('Content-Type') || ''
  const data = type.includes('json') ? await resp.json() : await resp.blob()
  if (!resp.ok) throw new ApiError(data)
  return data
}

export function newIdempotencyKey() {
  return (crypto.randomUUID && crypto.randomUUID()) || String(Date.now()) + Math.random().toString(16).slice(2)
}
