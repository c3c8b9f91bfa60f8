// Who did what in an audit trail, for the person reading their 账户动态 or an enterprise's log.
// What an action means comes from the server (``action_name``: each domain names its own actions).
export function actionName(entry) {
  return entry.action_name || i18n.global.t('audit.other')
}

import { i18n } from './i18n.js'

const ACTORS = ['person', 'device', 'staff', 'system', 'issuer', 'anonymous']

// who did it: the name when the trail has one, else what kind of actor it was
export function actorName(actor) {
  return (actor && (actor.name || (ACTORS.includes(actor.type) ? i18n.global.t(`audit.actor.${actor.type}`) : actor.type))) || ''
}
