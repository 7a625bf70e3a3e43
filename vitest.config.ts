import { defineConfig } from 'vitest/config'
import { useScratch } from './scripts/test-scratch.ts'
import LongestFirst from './scripts/test-sequencer.ts'

useScratch()

// One runner for the whole repo: each package is a project, so `vitest run` at the root runs every
// test and prints one summary, and `vitest run --project core` runs one package.
//
// Files run in parallel. Most tests start real processes and wait on them (a worker's start-up, a
// drain, a restart's backoff), so more files at once than cores keeps the machine busy where
// vitest's default (cores - 1, which is 1 on a 2-core CI machine) would leave it idle. The files
// that put the machine under load on purpose (test/load: chaos, slow clients), and the one whose
// outcome depends on load (the search pipeline's 10 ms batching deadline), run afterwards, one at
// a time (`sequence.groupOrder: 1`), so that neither they nor the rest see the other's load.
// BENTO_TEST_WORKERS sets the count of the first group (vitest's own VITEST_MAX_WORKERS would also
// lift the load group's 1).
export default defineConfig({
  test: {
    projects: ['native', 'packages/*', 'examples/*', 'test', 'test/load'],
    maxWorkers: Number(process.env.BENTO_TEST_WORKERS ?? 4),
    sequence: { sequencer: LongestFirst },
    reporters: ['default', './scripts/summary-reporter.ts'],
  },
})
