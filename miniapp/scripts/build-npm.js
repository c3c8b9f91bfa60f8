// What WeChat DevTools' "构建 npm" does for this project: copy each dependency's
// miniprogram dist into miniprogram_npm/, so the project opens ready to compile.
const fs = require('fs')
const path = require('path')

const root = path.resolve(__dirname, '..')
const pkg = require(path.join(root, 'package.json'))
const out = path.join(root, 'miniprogram_npm')
fs.rmSync(out, { recursive: true, force: true })
for (const name of Object.keys(pkg.dependencies || {})) {
  const dir = path.join(root, 'node_modules', name)
  const meta = require(path.join(dir, 'package.json'))
  const dist = path.join(dir, meta.miniprogram || 'miniprogram_dist')
  if (!fs.existsSync(dist)) throw new Error(`${name} has no miniprogram dist (${dist})`)
  fs.cpSync(dist, path.join(out, name), { recursive: true })
  console.log(`miniprogram_npm/${name} <- ${path.relative(root, dist)}`)
}
