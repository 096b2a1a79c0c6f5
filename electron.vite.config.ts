import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import { resolve } from 'node:path';

export default defineConfig({
  main: {
    build: {
      lib: { entry: { main: resolve('src-main/electron/main.ts') } },
    },
  },
  preload: {
    build: {
      lib: { entry: { preload: resolve('src-main/electron/preload.ts') } },
      // Sandboxed preloads cannot be ESM: force a single CommonJS file.
      rolldownOptions: { output: { format: 'cjs', entryFileNames: '[name].cjs' } },
    },
  },
  renderer: {
    root: 'src-renderer',
    base: './',
    build: { rolldownOptions: { input: resolve('src-renderer/index.html') } },
    plugins: [svelte()],
  },
});
