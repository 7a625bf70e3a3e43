import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    name: 'example-search-pipeline',
    include: ['*.test.ts'],
    testTimeout: 90_000,
    hookTimeout: 60_000,
    // The model tier batches with maxLatencyMs 10 and sheds (503) what would miss it, as it should
    // on a machine this busy: the test runs with the load tests, after every other file, alone.
    maxWorkers: 1,
    sequence: { groupOrder: 1 },
  },
})
