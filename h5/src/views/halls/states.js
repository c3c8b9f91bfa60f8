// A queue number's and an appointment's state in the reader's language (the server's own
// Chinese name when the code is not known here).
import { i18n } from '../../i18n.js'

const say = (key, fallback) => (i18n.global.te(key, 'zh-CN') ? i18n.global.t(key) : fallback)
export const numberState = (n) => say(`number.state.${n.state}`, n.state_name)
export const apptState = (a) => say(`appointments.state.${a.state}`, a.state_name)
