import { defineConfig } from 'vitest/config'

// Tests that load the machine on purpose (a worker SIGKILLed every second under 32 connections, 500
// slow connections): they run after every other project's files, one file at a time, so that
// their load slows no other test and no other test's processes compete with theirs.
export default defineConfig({
  test: {
    name: 'load',
    include: ['*.test.ts'],
    maxWorkers: 1,
    sequence: { groupOrder: 1 },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
})
