import { defineConfig } from 'vitest/config';

// The console is served by corouter under /console/ with a strict CSP (no inline script or style): everything is
// emitted as files, nothing is inlined, and nothing is fetched from anywhere but corouter itself.
export default defineConfig({
  base: '/console/',
  define: {
    // sockjs-client (bundled by the event-bus client) was written for browserify and reads `global`
    global: 'globalThis',
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsInlineLimit: 0,
    cssCodeSplit: false,
    modulePreload: { polyfill: false },
    sourcemap: false,
    target: 'es2022',
  },
  test: {
    environment: 'node',
    include: ['test/**/*.test.ts'],
  },
});
