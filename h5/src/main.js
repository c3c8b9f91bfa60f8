import { createApp } from 'vue'
import { createRouter, createWebHistory } from 'vue-router'
import Vant from 'vant'
import 'vant/lib/index.css'
import App from './App.vue'
import { resident, staff } from './api.js'
import { currentLocale, i18n, routeLocale, useLocale } from './i18n.js'

const r = (path, loader, meta = {}) => ({ path, component: loader, meta })
const routes = [
  r('/login', () => import('./views/Login.vue')),
  r('/', () => import('./views/Home.vue'), { auth: true, tab: true }),
  r('/realname', () => import('./views/Realname.vue'), { auth: true }),
  r('/cross-border', () => import('./views/CrossBorder.vue')),
  r('/wallet', () => import('./views/Wallet.vue'), { auth: true, tab: true }),
  r('/wallet/:id', () => import('./views/CertDetail.vue'), { auth: true }),
  r('/matters', () => import('./views/Matters.vue'), { auth: true, tab: true }),
  r('/matters/:code', () => import('./views/MatterGuide.vue'), { auth: true }),
  r('/matters/:code/apply', () => import('./views/Apply.vue'), { auth: true }),
  r('/bundles/:code/apply', () => import('./views/Apply.vue'), { auth: true, bundle: true }),
  r('/applications', () => import('./views/Applications.vue'), { auth: true }),
  r('/applications/:id', () => import('./views/ApplicationDetail.vue'), { auth: true }),
  r('/bundle-applications/:id', () => import('./views/BundleDetail.vue'), { auth: true }),
  r('/policies', () => import('./views/policies/Policies.vue'), { auth: true }),
  r('/policies/:code', () => import('./views/policies/PolicyDetail.vue'), { auth: true }),
  r('/mine', () => import('./views/Mine.vue'), { auth: true, tab: true }),
  r('/mine/close', () => import('./views/CloseAccount.vue'), { auth: true }),
  r('/mine/face', () => import('./views/Face.vue'), { auth: true }),
  r('/mine/proxies', () => import('./views/Proxies.vue'), { auth: true }),
  // WeChat's web authorisation sends the browser back here before paying inside WeChat (FeeSection)
  r('/wechat/authorized', () => import('./views/WechatAuthorized.vue'), { auth: true }),
  r('/portal', () => import('./views/portal/Portal.vue'), { auth: true, portal: true }),
  r('/kiosk', () => import('./views/kiosk/Kiosk.vue'), { kiosk: true }),
  r('/staff/login', () => import('./views/staff/StaffLogin.vue'), { zhOnly: true }),
  r('/staff', () => import('./views/staff/Queue.vue'), { staff: true, zhOnly: true }),
  r('/staff/applications/:id', () => import('./views/staff/StaffApplication.vue'), { staff: true, zhOnly: true }),
  r('/staff/stats', () => import('./views/staff/Stats.vue'), { staff: true, zhOnly: true }),
  r('/staff/reconciliation', () => import('./views/staff/Reconciliation.vue'), { staff: true, zhOnly: true }),
  r('/staff/policies', () => import('./views/staff/PolicyClaims.vue'), { staff: true, zhOnly: true }),
  r('/staff/tickets', () => import('./views/staff/TicketQueue.vue'), { staff: true, zhOnly: true }),
  r('/staff/tickets/stats', () => import('./views/staff/TicketStats.vue'), { staff: true, zhOnly: true }),
  r('/staff/tickets/:id', () => import('./views/staff/TicketDesk.vue'), { staff: true, zhOnly: true }),
  r('/halls', () => import('./views/halls/Halls.vue')),
  r('/halls/appointments', () => import('./views/halls/MyAppointments.vue'), { auth: true }),
  r('/halls/numbers/:id', () => import('./views/halls/MyNumber.vue'), { auth: true }),
  r('/halls/:id', () => import('./views/halls/HallDetail.vue')),
  r('/hall/:id/display', () => import('./views/halls/HallDisplay.vue'), { zhOnly: true }),
  r('/staff/hall', () => import('./views/staff/HallConsole.vue'), { staff: true, zhOnly: true }),
  r('/tickets', () => import('./views/tickets/Tickets.vue'), { auth: true }),
  r('/tickets/new', () => import('./views/tickets/NewTicket.vue')),
  r('/tickets/:id', () => import('./views/tickets/TicketDetail.vue'), { auth: true }),
  // the link in a 亮证 QR code: a phone camera opens it, the page asks the same address for JSON
  r('/api/v1/verify/shares/:token', () => import('./views/Verify.vue')),
  r('/:rest(.*)*', () => import('./views/NotFound.vue')),
]

const router = createRouter({ history: createWebHistory(), routes })
// A page's code that failed to load (no network, or a new release): say so, and load the
// page again once the network is back.
router.onError((err, to) => {
  if (navigator.onLine === false || /import|preload|fetch|module script/i.test(String(err?.message))) {
    window.dispatchEvent(new Event('chunk-failed'))
    const retry = () => window.location.assign(to.fullPath)
    if (navigator.onLine === false) window.addEventListener('online', retry, { once: true })
    else setTimeout(retry, 3000)
  }
})
router.beforeEach(async (to) => {
  if (to.meta.staff && !staff.session.loggedIn()) return { path: '/staff/login', query: { next: to.fullPath } }
  if (to.meta.auth && !resident.session.loggedIn()) return { path: '/login', query: { next: to.fullPath } }
  // the page's language (see i18n.js): the person's choice, or zh-CN on staff screens
  const want = routeLocale(to)
  if (want !== currentLocale()) await useLocale(want)
  return true
})

createApp(App).use(router).use(i18n).use(Vant).mount('#app')
