// Live events over a WebSocket (wx.connectSocket; the same events as the H5's SSE stream):
// consent requests, scans, application progress. On a reconnect it names the last event it
// saw (since=…) and the server sends what was missed first; a revoked login closes the
// socket with 4401 (back to the login page). While the socket is down, `onDown` lets the
// page fall back to polling.
const config = require('../config')
const { session, refreshTokens } = require('./api')

const SINCE = 'superapp.events.since'

function connect({ onEvent, onUp = () => {}, onDown = () => {} }) {
  let socket = null
  let closed = false
  let timer = null
  const open = () => {
    if (closed || !session.access) return
    const since = wx.getStorageSync(SINCE)
    const url = `${config.baseUrl.replace(/^http/, 'ws')}/api/v1/events/ws${since ? `?since=${since}` : ''}`
    socket = wx.connectSocket({ url, header: { Authorization: `Bearer ${session.access}` } })
    socket.onOpen(() => onUp())
    socket.onMessage(({ data }) => {
      let event
      try { event = JSON.parse(data) } catch (e) { return }
      if (event.id) wx.setStorageSync(SINCE, event.id)
      onEvent(event)
    })
    socket.onClose(async ({ code }) => {
      socket = null
      onDown()
      if (closed) return
      if (code === 4401) { session.clear(); wx.reLaunch({ url: '/pages/login/index' }); return }
      // an expired access token is the usual reason for a refused reconnect: refresh first
      if (code === 1006 || code === 1008) await refreshTokens().catch(() => false)
      timer = setTimeout(open, 2000)
    })
    socket.onError(() => {})
  }
  open()
  return {
    close() {
      closed = true
      clearTimeout(timer)
      if (socket) socket.close({ code: 1000 })
    },
  }
}

module.exports = { connect }
