// The application-card component rendered by miniprogram-simulate.
const { host, text, tap, simulate } = require('./host')

test('application-card: timeline, supplement when asked, stars once completed', async () => {
  const base = {
    id: 'a' + '2'.repeat(24), number: 'GZ20261123000001', matter_name: '社会保障卡申领', department_name: '广州市人力资源和社会保障局',
    deadline: '2026-12-01', remaining_working_days: 6, clock_paused: true, overdue: false,
    state: 'supplement_requested', state_name: '待补正', supplement: { comment: '照片背景需为白色', items: ['photo'] },
    timeline: [{ state: 'submitted', at: Date.UTC(2026, 10, 23, 1, 0), comment: '' },
      { state: 'supplement_requested', at: Date.UTC(2026, 10, 23, 2, 30), comment: '照片背景需为白色' }],
  }
  const { root, events, inner } = host('application-card',
    '<subject id="subject" application="{{a}}" rated="{{rated}}" bind:rate="on" bind:supplement="on" />', { a: base, rated: false })
  const t = text(inner())
  expect(t).toContain('需要补正：照片背景需为白色')
  expect(t).toContain('补正期间暂停计时')
  expect(t).toContain('已提交2026-11-23 09:00') // Beijing time
  expect(inner().querySelectorAll('.star')).toHaveLength(0)
  await tap(inner().querySelector('.supplement-btn'))
  expect(events[0]).toEqual({ type: 'supplement', detail: { id: base.id } })

  root.setData({ a: { ...base, state: 'completed', state_name: '已办结', clock_paused: false, supplement: null,
    timeline: [...base.timeline, { state: 'completed', at: Date.UTC(2026, 10, 24, 3, 0), comment: '' }] } })
  expect(text(inner())).toContain('已办结2026-11-24 11:00')
  const stars = inner().querySelectorAll('.star')
  expect(stars).toHaveLength(5)
  await tap(stars[3])
  expect(events[1]).toEqual({ type: 'rate', detail: { id: base.id, score: 4 } })
  root.setData({ rated: true })
  expect(inner().querySelectorAll('.star')).toHaveLength(0)
  expect(text(inner())).toContain('已评价')
  root.detach()
})
