import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'example-gpu-per-worker',
    include: ['*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
})
