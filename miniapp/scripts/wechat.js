// WeChat's own toolchain on this project, offline (no AppID, key or network needed):
//
//   node scripts/wechat.js pack    "构建 npm": miniprogram-ci's packNpmManually fills
//                                  miniprogram/miniprogram_npm/ from package.json's dependencies
//   node scripts/wechat.js check   app.json, page/component JSON, sitemap and project config
//                                  against WeChat's schemas; every WXML and WXSS through the
//                                  official compilers (wcc / wcsc, npm miniprogram-compiler);
//                                  miniprogram-ci's code-quality checks (package sizes, minified
//                                  JS/WXML/WXSS, lazy code loading, …). Prints a JSON summary and
//                                  exits non-zero on any failure.
const fs = require('fs')
const path = require('path')
const ci = require('miniprogram-ci')
const { wxmlToJs, wxssToJs } = require('miniprogram-compiler')
const { schemaValidate } = require('miniprogram-ci/dist/modules/corecompiler/original/validate/schemaValidate')

const PROJECT = path.resolve(__dirname, '..')
const config = JSON.parse(fs.readFileSync(path.join(PROJECT, 'project.config.json'), 'utf8'))
const ROOT = path.join(PROJECT, config.miniprogramRoot)
const LIMIT_KB = 2048 // WeChat's limit per package
const readJson = (p) => JSON.parse(fs.readFileSync(p, 'utf8'))

async function pack() {
  fs.rmSync(path.join(ROOT, 'miniprogram_npm'), { recursive: true, force: true })
  const r = await ci.packNpmManually({ packageJsonPath: path.join(PROJECT, 'package.json'), miniprogramNpmDistDir: ROOT })
  if (r.warnList && r.warnList.length) console.log('packNpm warnings:', JSON.stringify(r.warnList))
  console.log(`miniprogram_npm: ${r.miniProgramPackNum} package(s) packed`)
}

function jsonFiles(app) {
  const pages = [...app.pages, ...(app.subPackages || []).flatMap((s) => s.pages.map((p) => `${s.root.replace(/\/$/, '')}/${p}`))]
  const components = fs.readdirSync(path.join(ROOT, 'components')).map((c) => `components/${c}/index`)
  return { pages, components }
}

function validate(kind, file, problems) {
  const res = schemaValidate(kind, readJson(file))
  for (const e of res.error || []) problems.push(`${path.relative(PROJECT, file)}: ${e.errorProperty} should be ${e.correctType}`)
  return res.warning ? [`${path.relative(PROJECT, file)}: not in WeChat's schema: ${res.warning}`] : []
}

async function check() {
  const problems = []
  const warnings = []
  const app = readJson(path.join(ROOT, 'app.json'))
  warnings.push(...validate('app', path.join(ROOT, 'app.json'), problems))
  warnings.push(...validate('sitemap', path.join(ROOT, 'sitemap.json'), problems))
  warnings.push(...validate('projectconfig', path.join(PROJECT, 'project.config.json'), problems))
  const { pages, components } = jsonFiles(app)
  for (const p of [...pages, ...components]) {
    const json = path.join(ROOT, `${p}.json`)
    if (!fs.existsSync(json)) { problems.push(`${p}.json is missing`); continue }
    warnings.push(...validate('page', json, problems))
    for (const ext of ['.js', '.wxml']) if (!fs.existsSync(path.join(ROOT, p + ext))) problems.push(`${p}${ext} is missing`)
    for (const [tag, target] of Object.entries(readJson(json).usingComponents || {})) {
      const base = target.startsWith('/') ? path.join(ROOT, target) : target.startsWith('.') ? path.join(ROOT, path.dirname(p), target)
        : path.join(ROOT, 'miniprogram_npm', target)
      if (!fs.existsSync(`${base}.js`)) problems.push(`${p}: <${tag}> -> ${target} does not resolve`)
    }
  }
  for (const [tag, target] of Object.entries(app.usingComponents || {})) {
    const base = target.startsWith('/') ? path.join(ROOT, target) : path.join(ROOT, 'miniprogram_npm', target)
    if (!fs.existsSync(`${base}.js`)) problems.push(`app.json: <${tag}> -> ${target} does not resolve`)
  }
  const compiled = {}
  for (const [name, fn] of [['wxml', wxmlToJs], ['wxss', wxssToJs]]) {
    try { compiled[name] = fn(ROOT).length } catch (e) { problems.push(`${name}: ${String(e.message || e).trim()}`) }
  }
  const project = new ci.Project({ appid: config.appid, type: 'miniProgram', projectPath: PROJECT, privateKey: 'offline',
    attr: async () => ({}), ignores: ['node_modules/**/*', 'tests/**/*', 'scripts/**/*'] })
  const quality = await ci.checkCodeQuality(project)
  const sizes = {}
  for (const q of quality) {
    if (q.name === 'PACKAGE_SIZE_LIMIT') for (const [pkg, bytes] of Object.entries(q.detail || {})) sizes[pkg] = Math.round(bytes / 1024)
    if (!q.success) problems.push(`code quality: ${q.name}: ${q.text}`)
  }
  for (const [pkg, kb] of Object.entries(sizes)) if (kb > LIMIT_KB) problems.push(`package ${pkg} is ${kb} KB (limit ${LIMIT_KB} KB)`)
  const summary = { pages: pages.length, components: components.length, subpackages: (app.subPackages || []).length,
    compiled, package_kb: sizes, quality: quality.map((q) => [q.name, q.success]), warnings, problems }
  console.log(JSON.stringify(summary))
  if (problems.length) process.exitCode = 1
}

const command = process.argv[2]
;(command === 'pack' ? pack() : command === 'check' ? check() : Promise.reject(new Error('usage: wechat.js pack|check')))
  .then(() => process.exit(process.exitCode || 0), (e) => { console.error(e); process.exit(1) })
