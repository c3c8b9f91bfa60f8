// Checks every browser test applies to the screens it reaches: axe-core (injected through
// the DevTools protocol: the app's CSP refuses injected scripts, Runtime.evaluate is not
// subject to it) and the 360 px / 适老化 layout rules.
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8')
const t = (name) => `[data-test="${name}"]`

export async function settled(page) {
  await page.waitForLoadState('networkidle')
  await page.locator(t('loading')).first().waitFor({ state: 'detached', timeout: 10000 }).catch(() => {})
  await page.waitForTimeout(250)
}

export async function axe(page, name) {
  // let transitions end first: a button fading in or a dialog opening is not what people read
  await page.evaluate(() => Promise.all(document.getAnimations()
    .filter((a) => a.effect && a.effect.getComputedTiming().iterations !== Infinity)
    .map((a) => a.finished.catch(() => {}))))
  await page.evaluate(`${AXE}\n;0`)
  const result = await page.evaluate(() => window.axe.run(document, { runOnly: ['wcag2a', 'wcag2aa', 'best-practice'] }))
  const bad = result.violations.filter((v) => v.impact === 'critical' || v.impact === 'serious')
  const text = bad.map((v) => `${v.impact} ${v.id}: ${v.help} — ${v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(' | ')}`)
  assert.deepEqual(text, [], `${name}: axe found ${bad.length} critical/serious violation(s)`)
}

// Nothing wider than the screen, the header's parts side by side without overlapping, and
// (适老化) every button and tappable row at least 48 px tall.
export async function layout(page, name, elder) {
  const problems = await page.evaluate((elder) => {
    const out = []
    const vw = document.documentElement.clientWidth
    if (document.documentElement.scrollWidth > vw + 1) out.push(`page is ${document.documentElement.scrollWidth}px wide at ${vw}px`)
    for (const el of document.querySelectorAll('main *')) {
      const r = el.getBoundingClientRect()
      if (r.width && r.right > vw + 1 && getComputedStyle(el).position !== 'fixed' && !el.closest('.van-tabs__nav, .van-swipe, [aria-hidden="true"], .sr-only, .van-popup')) {
        out.push(`${el.tagName.toLowerCase()}.${[...el.classList].join('.')} reaches ${Math.round(r.right)}px`)
        break
      }
    }
    for (const bar of document.querySelectorAll('.van-nav-bar')) {
      const parts = [...bar.querySelectorAll('.van-nav-bar__left, .van-nav-bar__title, .van-nav-bar__right')]
        .map((p) => { const b = p.getBoundingClientRect(); const inner = p.firstElementChild?.getBoundingClientRect(); return { cls: p.className, b, w: p.scrollWidth > p.clientWidth + 1, inner } })
        .filter((p) => p.b.width > 0 && p.inner && p.inner.width > 0)
      for (let i = 0; i < parts.length; i++) for (let j = i + 1; j < parts.length; j++) {
        const a = parts[i].inner; const b = parts[j].inner
        if (a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom && b.top < a.bottom) out.push(`header parts overlap: ${parts[i].cls} / ${parts[j].cls}`)
      }
    }
    if (elder) {
      for (const el of document.querySelectorAll('main .van-button, main .van-cell--clickable, main [role="button"]')) {
        const r = el.getBoundingClientRect()
        if (r.width && r.height && r.height < 47.5 && getComputedStyle(el).visibility !== 'hidden') {
          out.push(`touch target ${Math.round(r.height)}px: ${el.textContent.trim().slice(0, 20)}`)
        }
      }
    }
    return out
  }, elder)
  assert.deepEqual(problems.slice(0, 8), [], `${name}${elder ? ' (适老化)' : ''} at 360 px`)
}

