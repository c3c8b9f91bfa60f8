// What the hall pages share (kept in this subpackage, not in the main package): the phone's
// location after WeChat's privacy check, and days, hours and distances in plain words
// (Beijing time whatever the phone's zone).

// 广州市 and its districts (GB/T 2260), for listing halls by district when the location is
// not allowed; the city lists every hall of its districts too
const REGIONS = [
  { code: '440100', name: '广州市（全部）' }, { code: '440103', name: '荔湾区' }, { code: '440104', name: '越秀区' },
  { code: '440105', name: '海珠区' }, { code: '440106', name: '天河区' }, { code: '440111', name: '白云区' },
  { code: '440112', name: '黄埔区' }, { code: '440113', name: '番禺区' }, { code: '440114', name: '花都区' },
  { code: '440115', name: '南沙区' }, { code: '440117', name: '从化区' }, { code: '440118', name: '增城区' },
]
const WEEKDAYS = ['周日', '周一', '周二', '周三', '周四', '周五', '周六']
const WEEK_NAMES = { workday: '工作日', sat: '周六', sun: '周日', holiday: '节假日' }

// today in Beijing, "2025-06-03"
function today(offsetDays = 0) {
  const b = new Date(Date.now() + 8 * 3600 * 1000 + offsetDays * 86400000)
  return b.toISOString().slice(0, 10)
}

// "2025-06-03" -> "6月3日 周二" (今天 / 明天 for those days)
function dayLabel(day) {
  const d = new Date(`${day}T00:00:00Z`)
  if (Number.isNaN(d.getTime())) return day
  const near = day === today() ? '今天 ' : day === today(1) ? '明天 ' : ''
  return `${near}${d.getUTCMonth() + 1}月${d.getUTCDate()}日 ${WEEKDAYS[d.getUTCDay()]}`
}

// "2025-06-10" -> "2025年6月10日"
function dateText(day) {
  const [y, m, d] = String(day).split('-').map(Number)
  return y && m && d ? `${y}年${m}月${d}日` : String(day)
}

function spansText(spans) {
  if (!spans || !spans.length) return '不开放'
  return spans.length === 1 && spans[0] === '00:00-24:00' ? '全天开放' : spans.join('、')
}

// today's opening times as a person reads them
function hoursText(todayHours) {
  return todayHours && todayHours.length ? `今天 ${spansText(todayHours)}` : '今天不开放'
}

// the week's hours: "工作日 09:00-12:00、13:30-17:30；周六 09:00-12:00；周日 不开放"
function weekHours(week) {
  return Object.keys(WEEK_NAMES).filter((k) => k in week || k !== 'holiday')
    .map((k) => `${WEEK_NAMES[k]} ${spansText(week[k])}`).join('；')
}

function distanceText(m) {
  if (m === null || m === undefined) return ''
  return m < 1000 ? `${m} 米` : `${(m / 1000).toFixed(1)} 公里`
}

// a hall's 线上取号 radius in words: "1 公里", "1.5 公里", "800 米"
function radiusText(m) {
  if (!m) return ''
  return m < 1000 ? `${m} 米` : `${Number((m / 1000).toFixed(1))} 公里`
}

// "lat,lng" as the hall map takes it
function nearParam(at) {
  return `${at.latitude.toFixed(6)},${at.longitude.toFixed(6)}`
}

// The phone's location (GCJ-02), or null when it is not given. The first call makes WeChat
// ask the privacy question (answered by the page's privacy-popup) and then its own location
// prompt; a refusal of either ends here with null.
function locate() {
  return new Promise((resolve) => {
    wx.getLocation({
      type: 'gcj02',
      success: (r) => resolve({ latitude: r.latitude, longitude: r.longitude }),
      fail: () => resolve(null),
    })
  })
}

// what a queue number says, in one line
function numberLine(n) {
  if (n.state === 'waiting') {
    return n.ahead ? `前面还有 ${n.ahead} 人，预计 ${n.wait_minutes} 分钟` : '前面没有人了，请留意叫号'
  }
  if (n.state === 'called') return `请到 ${n.window_name || `${n.window} 号窗口`}`
  return n.state_name
}

module.exports = { REGIONS, today, dayLabel, dateText, hoursText, weekHours, distanceText, radiusText, nearParam, locate, numberLine }
