// Builds the browser UI (src/web) into dist/web, which `tessera serve` serves. `npm install` runs
// this through the "prepare" script; `npm run build:web` runs it by hand; `npm run dev:web` starts
// Vite's dev server with /api proxied to a `tessera serve` on 127.0.0.1:8787.
import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

const here = (p: string) => fileURLToPath(new URL(p, import.meta.url));

export default defineConfig({
  root: here('./src/web'),
  base: '/',
  publicDir: false,
  clearScreen: false,
  plugins: [react()],
  build: {
    outDir: here('./dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // No data: URLs for assets: every asset is a file from 'self' (the CSP allows nothing inline).
    assetsInlineLimit: 0,
    chunkSizeWarningLimit: 1500,
  },
  worker: { format: 'es' },
  server: { host: '127.0.0.1', proxy: { '/api': 'http://127.0.0.1:8787' } },
});
