// Renders a page in miniprogram-simulate: Page() options become a component whose attach
// runs onLoad(query) then onShow, detach runs onHide/onUnload; @vant/weapp components are
// stood in by small components that render their properties and slots (the pages' own
// markup, bindings and logic are what is under test; Vant is tested by its authors).
const path = require('path')
const simulate = require('miniprogram-simulate')

const ROOT = path.join(__dirname, '..', 'miniprogram')
// The simulator's own template compiler renders the pages; WeChat's wcc/wcsc compile them in
// scripts/wechat.js check (with miniprogram-compiler installed the simulator would switch to
// wcc's output, whose runtime expects the real client).
const SIMULATE = 'simulate'
const LIFECYCLE = ['onLoad', 'onShow', 'onHide', 'onUnload', 'onReady']
let query = {}

global.getApp = () => ({ globalData: { elder: false }, setElder() {} })
global.Page = (opts) => {
  const methods = {}
  for (const [k, v] of Object.entries(opts)) if (typeof v === 'function') methods[k] = v
  global.Component({
    data: opts.data || {},
    methods,
    lifetimes: {
      attached() {
        const q = query
        this.ready = (async () => {
          if (this.onLoad) await this.onLoad(q)
          if (this.onShow) await this.onShow()
        })()
      },
      detached() { if (this.onHide) this.onHide(); if (this.onUnload) this.onUnload() },
    },
  })
}

const str = { type: String, value: '' }
const bool = { type: Boolean, value: false }
const multi = { multipleSlots: true }
const VANT = {
  // tapped, as Vant's: the click event, then the url opened (wx.navigateTo)
  'van-cell': { properties: { title: str, value: str, label: str, isLink: bool, url: str, required: bool },
    template: '<view class="van-cell" bindtap="tap">{{title}} {{value}} {{label}}<slot/><slot name="right-icon"/></view>',
    methods: { tap() { this.triggerEvent('click'); if (this.data.url) wx.navigateTo({ url: this.data.url }) } } },
  'van-cell-group': { properties: { title: str, inset: bool }, template: '<view class="van-cell-group">{{title}}<slot/></view>' },
  'van-field': { properties: { label: str, value: str, errorMessage: str, placeholder: str, type: str, required: bool, maxlength: str },
    template: '<view class="van-field">{{label}}={{value}} {{errorMessage}}</view>' },
  // as Vant's: no click while disabled or loading (and no url: a van-button does not navigate)
  'van-button': { properties: { type: str, block: bool, loading: bool, disabled: bool },
    template: '<view class="van-button" bindtap="tap"><slot/></view>',
    methods: { tap() { if (!this.data.disabled && !this.data.loading) this.triggerEvent('click') } } },
  'van-tag': { properties: { type: str }, template: '<view class="van-tag"><slot/></view>' },
  'van-search': { properties: { value: str, placeholder: str }, template: '<view class="van-search">{{value}}</view>' },
  'van-switch': { properties: { checked: bool }, template: '<view class="van-switch">{{checked}}</view>' },
  'van-empty': { properties: { description: str }, template: '<view class="van-empty">{{description}}<slot/></view>' },
  'van-checkbox': { properties: { value: bool, shape: str }, template: '<view class="van-checkbox">{{value ? "☑" : "☐"}}<slot/></view>' },
}
// the app's own components, registered once (the simulator keeps definitions by tag); each
// gets the ones before it (payment-card uses load-state)
const usingComponents = {}
for (const [tag, def] of Object.entries(VANT)) usingComponents[tag] = simulate.load({ id: `mock-${tag}`, options: multi, ...def })
for (const name of ['person-code', 'consent-card', 'application-card', 'privacy-popup', 'load-state', 'acting-banner', 'payment-card']) {
  usingComponents[name] = simulate.load(path.join(ROOT, 'components', name, 'index'), name,
    { compiler: SIMULATE, usingComponents: { ...usingComponents } })
}

// name: a main-package page ('wallet') or a subpackage page ('affairs/apply', 'me/cert');
// each page is loaded once (the simulator keeps definitions by id) and may be rendered again
const loaded = {}
function renderPage(name, pageQuery = {}) {
  query = pageQuery
  const dir = name.includes('/') ? path.join(ROOT, name) : path.join(ROOT, 'pages', name)
  loaded[name] = loaded[name] || simulate.load(path.join(dir, 'index'), `page-${name.replace('/', '-')}`,
    { rootPath: ROOT, compiler: SIMULATE, usingComponents: { ...usingComponents } })
  const id = loaded[name]
  const page = simulate.render(id)
  page.attach(document.createElement('parent-wrapper'))
  const detach = page.detach.bind(page)
  page.detach = () => { if (live.delete(page)) detach() }
  live.add(page)
  return page
}

// pages a failed test left open (with their sockets and timers) are closed after each test
const live = new Set()
function detachAll() { for (const page of [...live]) page.detach() }

async function until(check, what, timeout = 10000) {
  const start = Date.now()
  for (;;) {
    if (await check()) return
    if (Date.now() - start > timeout) throw new Error(`timed out waiting for ${what}`)
    await simulate.sleep(50)
  }
}

const text = (c) => c.dom.textContent.replace(/\s+/g, ' ')

module.exports = { renderPage, until, text, simulate, detachAll }
