// 政策兑现 against the real backend: a mother whose child's 出生医学证明 is in her wallet sees the
// 确认即享 育儿补贴 under 符合条件 with its reason (and 高龄津贴 under 暂不符合 with the failing
// condition); on the policy's page a mistyped bank card is caught by its check digit before
// anything is sent, and confirming shows 待审核 with the card masked; a resident over 80 finds
// the 免申即享 高龄津贴 already granted (已核定) and gives only the card to have it paid.
const fs = require('fs')
const { wx, store, calls } = require('./wx-runtime')

global.wx = wx
const world = JSON.parse(fs.readFileSync(process.env.MINIAPP_WORLD, 'utf8'))
require('../miniprogram/config').baseUrl = world.base_url
const { renderPage, text, until, detachAll } = require('./page-host')
const { api } = require('../miniprogram/utils/api')

const YUER = 'gz-yebt-2026'
const GAOLING = 'gz-gljt-2026'
const GOOD_CARD = '6222020200112233446' // passes Luhn
const BAD_CARD = '6222020200112233445' // one digit off
const toasts = () => calls.filter((c) => c[0] === 'showToast').map((c) => c[1])

afterEach(detachAll)

function as(who) {
  store.delete('superapp.acting')
  store.set('superapp.access', world.policies[who].access_token)
  store.set('superapp.refresh', world.policies[who].refresh_token)
}

// the person's claims as the server has them
async function claimsOf() { return (await api.get('/api/v1/policy-claims')).items }

test('办事 leads to 我可享受', async () => {
  as('mother')
  const matters = renderPage('matters')
  await matters.instance.ready
  expect(text(matters)).toContain('政策兑现')
  expect(text(matters)).toContain('我可享受')
  matters.detach()
})

test('我可享受 groups the policies, each with its reason', async () => {
  as('mother')
  const page = renderPage('policies/list')
  await page.instance.ready
  const groups = Object.fromEntries(page.data.groups.map((g) => [g.status, g.items]))
  const yuer = groups.eligible.find((i) => i.code === YUER)
  expect(yuer.reason).toBe('符合：持有子女出生医学证明、子女未满 3 周岁、本人为子女的父亲或母亲')
  expect(yuer.value).toBe('待确认') // offered when the birth certificate arrived (主动提醒)
  const old = groups.not_eligible.find((i) => i.code === GAOLING)
  expect(old.reason).toContain('不符合：年满 80 周岁')
  const shown = text(page)
  expect(shown).toContain('符合条件，可以享受')
  expect(shown).toContain('3 周岁以下婴幼儿育儿补贴')
  expect(shown).toContain('暂不符合')
  expect(shown.indexOf('育儿补贴')).toBeLessThan(shown.indexOf('暂不符合'))
  page.instance.toMatters()
  expect(calls).toContainEqual(['switchTab', '/pages/matters/index'])
  page.detach()
})

test('a mistyped card is caught before sending; confirming shows 待审核 with the card masked', async () => {
  as('mother')
  const page = renderPage('policies/detail', { code: YUER })
  await page.instance.ready
  expect(text(page)).toContain('符合条件')
  expect(text(page)).toContain('持有子女出生医学证明')
  expect(page.data.canConfirm).toBe(true)
  expect(page.data.claim.stateName).toBe('待确认')
  expect(page.data.accountName).toBe(world.policies.mother.name)
  const before = (await claimsOf()).find((c) => c.policy === YUER)
  expect(before.state).toBe('pending_confirmation')

  page.instance.onAccount({ detail: BAD_CARD })
  await page.instance.submit()
  expect(page.data.errors.bank_account).toContain('银行卡号有误')
  expect(text(page)).toContain('银行卡号有误')
  page.instance.onAccount({ detail: '6222 02' })
  await page.instance.submit()
  expect(page.data.errors.bank_account).toBe('请输入 12 至 19 位银行卡号')
  expect((await claimsOf()).find((c) => c.policy === YUER).updated_at).toBe(before.updated_at) // nothing sent

  page.instance.onAccount({ detail: GOOD_CARD.replace(/(\d{4})/g, '$1 ') })
  await page.instance.submit()
  expect(page.data.errors).toEqual({})
  expect(page.data.claim.stateName).toBe('待审核')
  expect(page.data.claim.account).toBe('6222 **** **** 3446')
  expect(page.data.canConfirm).toBe(false)
  expect(page.data.account).toBe('')
  expect(toasts()).toContain('已确认，等待审核')
  const shown = text(page)
  expect(shown).toContain('待审核')
  expect(shown).toContain('6222 **** **** 3446')
  expect(shown).toContain('3600 元')
  expect(shown).not.toContain(GOOD_CARD)
  page.detach()

  // the list says so too, with the masked card
  const list = renderPage('policies/list')
  await list.instance.ready
  expect(list.data.claims.find((c) => c.code === YUER).state).toBe('待审核')
  expect(text(list)).toContain('6222 **** **** 3446')
  list.detach()
})

test('over 80: 高龄津贴 already granted (免申即享), paid once the card is given', async () => {
  as('elder')
  const list = renderPage('policies/list')
  await list.instance.ready
  const eligible = list.data.groups.find((g) => g.status === 'eligible').items
  const allowance = eligible.find((i) => i.code === GAOLING)
  expect(allowance.value).toBe('已核定')
  expect(allowance.reason).toBe('符合：年满 80 周岁、广州市户籍')
  expect(text(list)).toContain('80 周岁以上老年人高龄津贴')
  list.detach()

  const page = renderPage('policies/detail', { code: GAOLING })
  await page.instance.ready
  expect(page.data.claim.stateName).toBe('已核定')
  expect(text(page)).toContain('已为您核定（免申即享）')
  expect(page.data.fields).toEqual([]) // nothing to declare
  page.instance.onAccount({ detail: GOOD_CARD })
  await page.instance.submit()
  expect(['审核通过', '发放中', '已到账']).toContain(page.data.claim.stateName)
  expect(page.data.claim.account).toBe('6222 **** **** 3446')
  page.detach()
  // the fake bank pays and calls back: 已到账 on the page
  await until(async () => (await claimsOf()).some((c) => c.policy === GAOLING && c.state === 'paid'), 'the payout')
  const again = renderPage('policies/detail', { code: GAOLING })
  await again.instance.ready
  expect(again.data.claim.stateName).toBe('已到账')
  expect(text(again)).toContain('已发放到您的银行账户')
  again.detach()
})
