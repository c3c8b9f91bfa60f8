// The consent-card component rendered by miniprogram-simulate.
const { host, text, tap, simulate } = require('./host')

const consent = {
  id: 'c' + '1'.repeat(24), purpose: '办理补领结婚证', state: 'pending',
  requester: { name: '天河区政务服务中心 1 号自助终端', location: '一楼大厅' },
  items: [{ item: 'certificate:ID', label: '居民身份证', state: 'pending' }, { item: 'certificate:HUKOU', label: '居民户口簿', state: 'pending' }],
}

test('consent-card: approve item by item, or reject everything', async () => {
  const { root, events, inner } = host('consent-card', '<subject id="subject" consent="{{consent}}" bind:decide="on" />', { consent })
  expect(text(inner())).toContain('天河区政务服务中心 1 号自助终端 请求使用您的信息')
  expect(text(inner())).toContain('同意所选 2 项')
  await tap(inner().querySelectorAll('.item')[1]) // untick the household register
  expect(text(inner())).toContain('同意所选 1 项')
  await tap(inner().querySelector('.approve'))
  expect(events).toEqual([{ type: 'decide', detail: { id: consent.id, action: 'approve', items: ['certificate:ID'] } }])
  await tap(inner().querySelector('.reject'))
  expect(events[1].detail).toEqual({ id: consent.id, action: 'reject', items: null })
  // nothing ticked: approving sends nothing
  await tap(inner().querySelectorAll('.item')[0])
  await tap(inner().querySelector('.approve'))
  expect(events).toHaveLength(2)
  root.detach()
})
