import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'test',
    include: ['**/*.test.ts'],
    // load/ is a project of its own, run after every other file (see the root vitest.config.ts).
    exclude: ['**/node_modules/**', 'fixtures/**', 'load/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
