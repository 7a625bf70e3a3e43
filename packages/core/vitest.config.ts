import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'core',
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['./test/global-setup.ts', './test/build-dist.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
})
