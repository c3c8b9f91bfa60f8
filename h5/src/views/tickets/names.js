// A 12345 ticket's kind, state and timeline steps in the reader's language (the server's own
// Chinese names when the code is not known here). Categories stay as the catalog names them.
import { i18n } from '../../i18n.js'

const known = (key) => i18n.global.te(key, 'zh-CN')
const say = (key, fallback) => (known(key) ? i18n.global.t(key) : fallback)

export const kindName = (t) => say(`ticket.kind.${t.kind}`, t.kind_name)
export const kindOf = (k) => say(`ticket.kind.${k.code}`, k.name)
export const ticketState = (t) => say(`ticket.state.${t.state}`, t.state_name)
export const stepName = (e) => (e.event && known(`ticket.event.${e.event}`) ? i18n.global.t(`ticket.event.${e.event}`)
  : say(`ticket.state.${e.state}`, e.name))
// "5 个工作日" from the catalog, in the reader's words
export const limitText = (limit) => {
  const n = /^(\d+)\s*个工作日$/.exec(String(limit || ''))
  return n ? i18n.global.t('ticket.workingDays', { n: Number(n[1]) }, Number(n[1])) : limit
}
