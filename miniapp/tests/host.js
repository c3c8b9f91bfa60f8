// Renders one component inside a parent that binds its events the way the pages do.
// (One component per test file: the simulator keeps definitions per module registry.)
const path = require('path')
const simulate = require('miniprogram-simulate')

const comp = (name) => path.join(__dirname, '..', 'miniprogram', 'components', name, 'index')

function host(name, template, data) {
  const events = []
  // each component under its own tag: j-component keeps definitions by tag name
  const id = simulate.load({
    id: `host-${name}`,
    usingComponents: { [name]: simulate.load(comp(name), { compiler: 'simulate' }) },
    template: template.replace('<subject ', `<${name} `),
    data,
    methods: { on(e) { events.push({ type: e.type, detail: e.detail }) } },
  })
  const root = simulate.render(id)
  root.attach(document.createElement('parent-wrapper'))
  return { root, events, inner: () => root.querySelector('#subject') }
}

const text = (c) => c.dom.textContent.replace(/\s+/g, ' ')
// events are delivered asynchronously by the simulator
async function tap(c) { c.dispatchEvent('tap'); await simulate.sleep(20) }

module.exports = { host, text, tap, simulate }
