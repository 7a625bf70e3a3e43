import { defineConfig } from 'vitest/config'

// One runner for the whole repo: each package is a project, so `vitest run` at the root runs every
// test and prints one summary, and `vitest run --project core` runs one package.
export default defineConfig({
  test: {
    projects: ['native', 'packages/*', 'examples/*', 'test'],
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
