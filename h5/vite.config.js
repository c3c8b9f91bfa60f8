import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Vant's icon font is inlined (woff2, data: URL); its fallback points at a third-party CDN
// (at.alicdn.com) that the app must never call: the fallback is dropped from the bundle.
const noThirdPartyFont = {
  name: 'no-third-party-font',
  transform(code, id) {
    if (!id.includes('vant') || !id.endsWith('.css')) return null
    return { code: code.replace(/,\s*url\(["']?(https?:)?\/\/at\.alicdn\.com[^)]*\)\s*format\(["']?woff["']?\)/g, ''), map: null }
  },
}

// Built by the README's set-up (npm ci + vite build) and served by the Tornado app.
export default defineConfig({
  plugins: [vue(), noThirdPartyFont],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/.well-known': 'http://127.0.0.1:8000' } },
})
