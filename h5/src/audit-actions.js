// Who did what in an audit trail, for the person reading their 账户动态 or an enterprise's log.
// What an action means comes from the server (``action_name``: each domain names its own actions).
export function actionName(entry) {
  return entry.action_name || '其他操作'
}

const ACTORS = { person: '本人', device: '自助终端', staff: '工作人员', system: '系统', issuer: '发证机关', anonymous: '匿名核验' }

// who did it: the name when the trail has one, else what kind of actor it was
export function actorName(actor) {
  return (actor && (actor.name || ACTORS[actor.type] || actor.type)) || ''
}
