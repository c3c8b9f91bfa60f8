// Lighthouse (mobile: its default emulated phone and simulated slow 4G) on pages of the
// running app, in Debian's chromium. Signed-in pages get the resident's session before the
// app's own code runs (sessionStorage, which Lighthouse is told not to reset).
// Usage: node run.mjs <base-url> <session-json>   -> prints one JSON line per page
import lighthouse from 'lighthouse'
import puppeteer from 'puppeteer-core'

const [base, sessionJson] = process.argv.slice(2)
const session = JSON.parse(sessionJson)
const PAGES = [
  ['登录页 /login', '/login', false],
  ['已登录首页（服务码） /', '/', true],
  ['事项列表 /matters', '/matters', true],
]

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync', '--disable-dev-shm-usage'],
})
try {
  for (const [name, path, signedIn] of PAGES) {
    const page = await browser.newPage()
    // a first visit every time: the HTTP cache is emptied (only the session is kept)
    const cdp = await page.createCDPSession()
    await cdp.send('Network.clearBrowserCache')
    await cdp.detach()
    if (signedIn) {
      await page.evaluateOnNewDocument((s) => {
        sessionStorage.setItem('resident.access', s.access)
        sessionStorage.setItem('resident.refresh', s.refresh)
      }, session)
    }
    const result = await lighthouse(base + path, {
      output: 'json', logLevel: 'error', disableStorageReset: true,
      onlyCategories: ['performance', 'accessibility', 'best-practices'],
    }, undefined, page)
    const lhr = result.lhr
    const audit = (id) => lhr.audits[id]?.numericValue
    const failed = Object.values(lhr.audits)
      .filter((a) => a.score !== null && a.score < 0.9 && a.scoreDisplayMode === 'binary').map((a) => a.id)
    console.log(JSON.stringify({
      page: name, url: lhr.finalDisplayedUrl,
      performance: Math.round(lhr.categories.performance.score * 100),
      accessibility: Math.round(lhr.categories.accessibility.score * 100),
      best_practices: Math.round(lhr.categories['best-practices'].score * 100),
      fcp_ms: Math.round(audit('first-contentful-paint')), lcp_ms: Math.round(audit('largest-contentful-paint')),
      tbt_ms: Math.round(audit('total-blocking-time')), cls: Number((audit('cumulative-layout-shift') || 0).toFixed(3)),
      transfer_kib: Math.round((audit('total-byte-weight') || 0) / 1024), failed,
    }))
    await page.close()
  }
} finally {
  await browser.close()
}
