// The kiosk's identity: its device id and private key, provisioned once on the machine.
// The key is imported as a non-extractable WebCrypto key and kept in IndexedDB, so page
// scripts can sign with it but nobody can read it back out. Sign-in is a client assertion
// (ES256 JWT, RFC 7523 style) exchanged for a short aud=kiosk token; no shared password.

const DB = 'superapp-kiosk'
const AUDIENCE = 'superapp-device-token'

function idb(mode, fn) {
  return new Promise((resolve, reject) => {
    const open = indexedDB.open(DB, 1)
    open.onupgradeneeded = () => open.result.createObjectStore('device')
    open.onerror = () => reject(open.error)
    open.onsuccess = () => {
      const tx = open.result.transaction('device', mode)
      const req = fn(tx.objectStore('device'))
      tx.oncomplete = () => { resolve(req && req.result); open.result.close() }
      tx.onerror = () => reject(tx.error)
    }
  })
}

export const loadDevice = () => idb('readonly', (s) => s.get('self'))
export const forgetDevice = () => idb('readwrite', (s) => s.delete('self'))

export async function provision({ deviceId, privateKeyPem, idleSeconds }) {
  const body = privateKeyPem.replace(/-----[^-]+-----/g, '').replace(/\s+/g, '')
  const der = Uint8Array.from(atob(body), (c) => c.charCodeAt(0))
  const key = await crypto.subtle.importKey('pkcs8', der, { name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
  await idb('readwrite', (s) => s.put({ deviceId, key, idleSeconds: Number(idleSeconds) || 60 }, 'self'))
}

const b64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes))).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '')
const enc = (obj) => b64url(new TextEncoder().encode(JSON.stringify(obj)))

export async function assertion(device) {
  const now = Math.floor(Date.now() / 1000)
  const jti = b64url(crypto.getRandomValues(new Uint8Array(12)))
  const input = `${enc({ alg: 'ES256', typ: 'JWT' })}.${enc({ iss: device.deviceId, sub: device.deviceId, aud: AUDIENCE, iat: now, exp: now + 60, jti })}`
  const sig = await crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, device.key, new TextEncoder().encode(input))
  return `${input}.${b64url(sig)}` // WebCrypto gives r||s, exactly the JWS form
}

// Signing in as the device and calling the API with its short token: on expiry (401), a new
// assertion is signed and the call tried once more. ``client`` is the kiosk API client.
export function deviceCaller(client, currentDevice, ApiError) {
  async function signIn() {
    const r = await fetch('/api/v1/devices/token', { method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ assertion: await assertion(currentDevice()) }) })
    const body = await r.json()
    if (!r.ok) throw new ApiError(body, r.status)
    client.session.save(body)
  }
  async function call(path, opts = {}) {
    try { return await client.request(path, opts) } catch (e) {
      if (e instanceof ApiError && e.status === 401) { await signIn(); return client.request(path, opts) }
      throw e
    }
  }
  return { signIn, call }
}
