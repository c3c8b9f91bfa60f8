// 政策兑现: a claim's state in words, and the bank card check done before anything is sent.
import { i18n } from '../../i18n.js'

const STATES = ['pending_confirmation', 'confirmed', 'granted', 'approved', 'paying', 'paid', 'failed', 'rejected']
const t = (...a) => i18n.global.t(...a)

export const claimStateName = (c) => (STATES.includes(c.state) ? t(`policies.state.${c.state}`) : c.state_name || c.state)
export const claimSentence = (c, dept = '') => (STATES.includes(c.state)
  ? t(`policies.stateText.${c.state}`, { dept, reason: c.reason || '' }) : c.state_name || c.state)
export const claimTagType = (c) => ({ paid: 'success', rejected: 'danger', failed: 'danger', pending_confirmation: 'warning',
  granted: 'warning' }[c.state] || 'primary')
// a claim the holder still has to confirm (the form is shown); any other state is under way or done
export const awaitingHolder = (c) => !c || ['pending_confirmation', 'granted'].includes(c.state)

// The Luhn check of a bank card number (12-19 digits), as the server does it.
export function luhnOk(number) {
  const s = String(number || '').replace(/\s+/g, '')
  if (!/^[0-9]{12,19}$/.test(s)) return false
  let sum = 0
  for (let i = 0; i < s.length; i++) {
    let d = Number(s[s.length - 1 - i])
    if (i % 2 === 1) { d *= 2; if (d > 9) d -= 9 }
    sum += d
  }
  return sum % 10 === 0
}
