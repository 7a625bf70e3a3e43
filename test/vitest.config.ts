import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'test',
    include: ['**/*.test.ts'],
    exclude: ['**/node_modules/**', 'fixtures/**'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
