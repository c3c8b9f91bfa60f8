// The 12345 pages against the real backend: 我的诉求 empty with its next action, a street-light
// 求助 filed with a photo (checked before sending), dispatched and answered by staff, judged
// 不满意 then 满意 on the detail page; a 咨询 the knowledge base answers on the spot; an
// anonymous 举报 sent without the login; a ticket that cannot be loaded shows 重试.
const fs = require('fs')
const { wx, store, calls, willChoose } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, until, text, detachAll } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64')
const toasts = () => calls.filter((c) => c[0] === 'showToast').map((c) => c[1])

afterEach(detachAll)

beforeAll(() => {
  store.set('superapp.access', world.hotline.access_token)
  store.set('superapp.refresh', world.hotline.refresh_token)
})

// staff act through the same HTTP API (their own token, not the resident's)
async function desk(who, id, action, body) {
  const t = await api.get(`/api/v1/staff/tickets/${id}`, { anonymous: true, header: { Authorization: `Bearer ${world.desk[who]}` } })
  return api.post(`/api/v1/staff/tickets/${id}/${action}`, { version: t.version, ...body },
    { anonymous: true, header: { Authorization: `Bearer ${world.desk[who]}` } })
}

async function fill(page, { kind, category, title, content, address }) {
  page.instance.pickKind({ currentTarget: { dataset: { kind } } })
  page.instance.onCategory({ detail: { value: page.data.categories.findIndex((c) => c.code === category) } })
  page.instance.onTitle({ detail: title })
  page.instance.onContent({ detail: content })
  if (address) page.instance.onAddress({ detail: address })
}

test('我的诉求 starts empty and says what to do', async () => {
  const page = renderPage('hotline/list')
  await page.instance.ready
  expect(text(page)).toContain('还没有提交过诉求')
  page.instance.toNew()
  expect(calls).toContainEqual(['navigateTo', '/hotline/new/index'])
  page.detach()
})

test('a street light: checked before sending, filed with a photo, answered, redone once, then closed', async () => {
  const page = renderPage('hotline/new')
  await page.instance.ready
  expect(page.data.kinds.map((k) => k.name)).toEqual(['咨询', '求助', '投诉', '举报', '建议'])
  const sentBefore = (await api.get('/api/v1/tickets')).items.length
  await page.instance.submit() // nothing filled: told, nothing sent
  expect(page.data.errors).toMatchObject({ category: '请选择分类' })
  expect(page.data.created).toBe(null)
  await fill(page, { kind: 'help', category: 'cg-streetlight', title: '体育西路路灯不亮',
    content: '体育西路 101 号门前两盏路灯连续三晚不亮，夜间行人不便。', address: '广州市天河区体育西路 101 号' })
  expect(page.data.kindHint).toContain('求助')
  willChoose('light.png', PNG)
  await page.instance.upload()
  expect(page.data.uploads).toHaveLength(1)
  await page.instance.submit()
  expect(page.data.created.number).toMatch(/^12345-\d{8}-\d{6}$/)
  expect(calls).toContainEqual(['requestSubscribeMessage', ['tpl-application-progress-dev']])
  expect(text(page)).toContain(`已提交，编号 ${page.data.created.number}`)
  const id = page.data.created.id
  page.detach()
  const mine = (await api.get('/api/v1/tickets')).items
  expect(mine).toHaveLength(sentBefore + 1)
  expect(mine[0].attachments).toHaveLength(1)

  // the centre dispatches to city management, which signs and answers
  await desk('rx.paidan', id, 'accept', {})
  await desk('rx.paidan', id, 'dispatch', { lead_department: 'gz-cgj' })
  await desk('cg.chuli', id, 'sign', {})
  await desk('cg.chuli', id, 'answer', { comment: '已更换一盏路灯的灯泡' })

  const detail = renderPage('hotline/detail', { id })
  await detail.instance.ready
  expect(text(detail)).toContain('已更换一盏路灯的灯泡')
  expect(text(detail)).toContain('您对办理结果满意吗')
  expect(text(detail)).toContain('城市管理')
  await detail.instance.callback({ currentTarget: { dataset: { result: 'unsatisfied' } } })
  expect(detail.data.t.state).toBe('handling')
  expect(toasts()).toContain('已转回部门重新办理')
  await desk('cg.chuli', id, 'answer', { comment: '两盏路灯均已修复，夜间复查正常' })
  await detail.instance.load()
  await detail.instance.callback({ currentTarget: { dataset: { result: 'satisfied' } } })
  expect(detail.data.t.state_name).toBe('已办结')
  const steps = detail.data.steps.map((s) => s.name)
  expect(steps).toEqual(expect.arrayContaining(['待受理', '已受理', '已派单', '办理中', '已答复', '不满意，重办', '已办结']))
  detail.detach()

  const list = renderPage('hotline/list')
  await list.instance.ready
  expect(text(list)).toContain('体育西路路灯不亮')
  expect(text(list)).toContain('已办结')
  list.detach()
})

test('a 咨询 the knowledge base answers while typing is closed on the spot', async () => {
  const page = renderPage('hotline/new')
  await page.instance.ready
  await fill(page, { kind: 'consult', category: 'gjj-fund', title: '公积金租房提取', content: '租房提取公积金需要什么材料，多久到账？' })
  await until(() => page.data.suggestions.length, 'knowledge-base answers while typing')
  await page.instance.submit()
  expect(page.data.created.suggestions.length).toBeGreaterThan(0)
  await page.instance.resolve({ currentTarget: { dataset: { id: page.data.created.suggestions[0].id } } })
  const id = page.data.created.id
  expect(calls).toContainEqual(['redirectTo', `/hotline/detail/index?id=${id}`])
  page.detach()
  const detail = renderPage('hotline/detail', { id })
  await detail.instance.ready
  expect(detail.data.t.state).toBe('archived')
  expect(detail.data.steps.map((s) => s.name)).toContain('知识库直接答复')
  detail.detach()
})

test('an anonymous 举报 goes without the login and gives a query code once', async () => {
  const before = (await api.get('/api/v1/tickets')).items.length
  const page = renderPage('hotline/new')
  await page.instance.ready
  await fill(page, { kind: 'report', category: 'hj-noise', title: '工地夜间施工噪声',
    content: '某工地每晚十一点后仍在打桩施工，噪声很大，影响休息。' })
  page.instance.onAnonymous({ detail: true })
  await page.instance.submit()
  expect(page.data.created.query_code).toMatch(/^[0-9A-F]{12}$/)
  expect(text(page)).toContain('只显示这一次')
  page.instance.copyCode()
  expect(calls).toContainEqual(['setClipboardData', `${page.data.created.number} ${page.data.created.query_code}`])
  page.detach()
  expect((await api.get('/api/v1/tickets')).items).toHaveLength(before) // not tied to this account
})

test('a ticket that cannot be loaded says so with 重试', async () => {
  const page = renderPage('hotline/detail', { id: `t${'0'.repeat(24)}` })
  await page.instance.ready
  expect(page.data.error).toContain('未找到该诉求')
  expect(text(page)).toContain('重试')
  page.detach()
})
