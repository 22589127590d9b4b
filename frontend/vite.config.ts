import { defineConfig } from 'vitest/config';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// SWITCHBOARD_BRIDGE=http://127.0.0.1:PORT proxies /bridge to a running
// `switchboard browser` during `npm run dev`.
const bridge = process.env.SWITCHBOARD_BRIDGE;

export default defineConfig({
  plugins: [svelte()],
  // Relative asset paths: the same dist/ is served by Wails and by the loopback bridge.
  base: './',
  build: { outDir: 'dist', emptyOutDir: true, target: 'es2022' },
  server: bridge ? { proxy: { '/bridge': { target: bridge, changeOrigin: false } } } : {},
  // Component tests need Svelte's client build, not the server one.
  resolve: process.env.VITEST ? { conditions: ['browser'] } : undefined,
  test: {
    include: ['src/**/*.test.ts'],
    environment: 'node',
  },
});
