// The phone's position, asked only when the person taps for it (never on page load), and
// the districts of the demo city for those who would rather not share it.
export function locate() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error('unsupported')); return }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: +p.coords.latitude.toFixed(6), lng: +p.coords.longitude.toFixed(6) }),
      (e) => reject(e), { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 })
  })
}

export const REGIONS = [['440100', '全市'], ['440103', '荔湾区'], ['440104', '越秀区'], ['440105', '海珠区'],
  ['440106', '天河区'], ['440111', '白云区'], ['440112', '黄埔区']]

export const distanceText = (m) => (m == null ? '' : m < 1000 ? `${m} 米` : `${(m / 1000).toFixed(1)} 公里`)

export const WEEK = { workday: '工作日', sat: '周六', sun: '周日', holiday: '节假日' }
