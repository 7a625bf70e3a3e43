import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'hono',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
