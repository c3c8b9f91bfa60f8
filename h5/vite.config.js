import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'

// Built by the README's set-up (npm ci + vite build) and served by the Tornado app.
export default defineConfig({
  plugins: [vue()],
  base: '/',
  build: { outDir: 'dist', emptyOutDir: true, assetsDir: 'assets', sourcemap: false },
  server: { proxy: { '/api': 'http://127.0.0.1:8000', '/.well-known': 'http://127.0.0.1:8000' } },
})
