// Builds the dashboard into dist/dashboard (served by the server at /dashboard): `npm run build:dashboard`.
// For development, `npm run dev:dashboard` serves it with live reload and proxies the API to a running server.
import { defineConfig } from 'vite';

const server = process.env.SWITCHBOARD_URL ?? 'http://127.0.0.1:7860';

export default defineConfig({
  base: '/dashboard/',
  build: {
    outDir: '../dist/dashboard',
    emptyOutDir: true,
    target: 'es2022',
    // One small script and one stylesheet; no source maps in the package.
    sourcemap: false,
    reportCompressedSize: true,
  },
  server: {
    proxy: {
      '/calls': server,
      '/dashboard/api': server,
      '/dashboard/login': server,
      '/dashboard/logout': server,
    },
  },
});
