// The person-code component rendered by miniprogram-simulate.
const { host, text, tap, simulate } = require('./host')

test('person-code shows the code and 短码, counts down and asks for a new code once', async () => {
  const code = { code: 'SA1:ABC', short_code: '12345678', refresh_after: new Date(Date.now() + 1200).toISOString(), expires_at: '' }
  const { root, events, inner } = host('person-code',
    '<subject id="subject" code="{{code}}" image-src="{{src}}" name="{{name}}" bind:refresh="on" />',
    { code, src: '/tmp/code.png', name: '欧***' })
  expect(text(inner())).toContain('12345678')
  expect(text(inner())).toContain('欧*** 的服务码')
  expect(inner().data.imageSrc).toBe('/tmp/code.png')
  await simulate.sleep(2600)
  expect(events.filter((e) => e.type === 'refresh')).toHaveLength(1) // once, not every second
  expect(events[0].detail.code).toBe('SA1:ABC')
  // the page answers with a new code: shown at once, counting down again
  root.setData({ code: { ...code, code: 'SA1:NEW', short_code: '87654321', refresh_after: new Date(Date.now() + 60000).toISOString() } })
  await simulate.sleep(1100)
  expect(text(inner())).toContain('87654321')
  expect(Number(inner().data.secondsLeft)).toBeGreaterThan(55)
  expect(events.filter((e) => e.type === 'refresh')).toHaveLength(1)
  root.detach()
})
