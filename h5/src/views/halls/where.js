// The phone's position, asked only when the person taps for it (never on page load), and
// the districts of the demo city for those who would rather not share it.
import { i18n } from '../../i18n.js'

export function locate() {
  return new Promise((resolve, reject) => {
    if (!navigator.geolocation) { reject(new Error('unsupported')); return }
    navigator.geolocation.getCurrentPosition(
      (p) => resolve({ lat: +p.coords.latitude.toFixed(6), lng: +p.coords.longitude.toFixed(6) }),
      (e) => reject(e), { enableHighAccuracy: true, timeout: 10000, maximumAge: 60000 })
  })
}

// region codes; their names are halls.region.<code> in locales/
export const REGIONS = ['440100', '440103', '440104', '440105', '440106', '440111', '440112']

export const distanceText = (m) => (m == null ? '' : m < 1000 ? i18n.global.t('halls.metres', { n: m })
  : i18n.global.t('halls.km', { n: (m / 1000).toFixed(1) }))

export const WEEK = ['workday', 'sat', 'sun', 'holiday']
export const weekName = (k) => (WEEK.includes(k) ? i18n.global.t(`halls.week.${k}`) : k)
