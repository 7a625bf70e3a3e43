// Adds one plain closing line, `Tests: N passed, N failed, N skipped`, after vitest's own summary, so
// that CI logs end with a count any tool can read. The line must never look greener than the run:
// - a test that did not run because a hook of its suite or file failed (`beforeAll`) is a failure,
//   not a skip; so is a file that failed to load, an unhandled error, and a run that failed before
//   any test (a global setup that threw);
// - with `BENTO_ALLOWED_SKIPS` naming a file (CI sets it), every skipped test whose full name
//   matches none of that file's patterns is a failure too, listed by name. The file holds one
//   regular expression per line; `#` starts a comment, and each pattern says why it may skip.
import { readFileSync } from 'node:fs'
import type { Reporter, TestCase, TestModule, TestRunEndReason, TestSuite } from 'vitest/node'

function allowedSkips(): RegExp[] | undefined {
  const file = process.env.BENTO_ALLOWED_SKIPS
  if (!file) return undefined
  return readFileSync(file, 'utf8')
    .split('\n')
    .map((line) => line.replace(/#.*$/, '').trim())
    .filter(Boolean)
    .map((pattern) => new RegExp(pattern))
}

// True when the test's suite or file has errors of its own (a hook threw), so its tests did not
// run. A suite that merely contains a failed test has none.
function underFailedParent(test: TestCase): boolean {
  let parent: TestSuite | TestModule = test.parent
  for (;;) {
    if (parent.errors().length > 0) return true
    if (parent.type === 'module') return false
    parent = parent.parent
  }
}

export default class SummaryReporter implements Reporter {
  onTestRunEnd(
    modules: ReadonlyArray<TestModule>,
    unhandledErrors: ReadonlyArray<unknown>,
    reason: TestRunEndReason
  ): void {
    const allowed = allowedSkips()
    const notAllowed: string[] = []
    let passed = 0
    let failed = unhandledErrors.length
    let skipped = 0
    for (const module of modules) {
      let failedHere = 0
      for (const test of module.children.allTests()) {
        const state = test.result().state
        if (state === 'passed') passed++
        else if (state === 'failed' || underFailedParent(test)) failedHere++
        else if (allowed && !allowed.some((pattern) => pattern.test(test.fullName))) {
          failedHere++
          notAllowed.push(`${module.relativeModuleId} > ${test.fullName}`)
        } else skipped++
      }
      // A file that failed with no test to show for it (it did not load) counts once.
      if ((module.state() === 'failed' || module.errors().length > 0) && failedHere === 0) {
        failedHere = 1
      }
      failed += failedHere
    }
    if (reason === 'failed' && failed === 0) failed = 1
    if (notAllowed.length > 0) {
      process.stdout.write(`\nSkipped, and not on the list of skips allowed on CI:\n`)
      for (const name of notAllowed) process.stdout.write(`  ${name}\n`)
    }
    process.stdout.write(`\nTests: ${passed} passed, ${failed} failed, ${skipped} skipped\n`)
  }
}
