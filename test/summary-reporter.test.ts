// The closing line CI reads must never look greener than the run: a hook that failed, a file
// that could not run, a global setup that threw, or a skip CI does not allow, all count as failures.
import { spawnSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

const root = fileURLToPath(new URL('../', import.meta.url))
const vitest = `${root}node_modules/vitest/vitest.mjs`
const reporter = `${root}scripts/summary-reporter.ts`

function run(fixture: string, env: Record<string, string> = {}) {
  // CI sets the allowed-skips list for the whole suite; each case here sets its own, or none.
  const { BENTO_ALLOWED_SKIPS: _ci, ...inherited } = process.env
  const dir = fileURLToPath(new URL(`./fixtures/reporter/${fixture}/`, import.meta.url))
  const result = spawnSync(
    process.execPath,
    [vitest, 'run', '--root', dir, '--reporter', 'default', '--reporter', reporter],
    { encoding: 'utf8', env: { ...inherited, NO_COLOR: '1', ...env }, timeout: 60_000 }
  )
  const output = `${result.stdout}${result.stderr}`
  const line = output.match(/^Tests: (\d+) passed, (\d+) failed, (\d+) skipped$/m)
  expect(line, output).not.toBeNull()
  const [, passed, failed, skipped] = line!.map(Number)
  return { passed, failed, skipped, code: result.status, output }
}

describe('the summary reporter', () => {
  it('counts a passing run with a plain skip as it is', () => {
    expect(run('ok')).toMatchObject({ passed: 1, failed: 0, skipped: 1, code: 0 })
  })

  it('counts the tests a failed beforeAll kept from running as failures, not skips', () => {
    expect(run('hook')).toMatchObject({ passed: 1, failed: 2, skipped: 0 })
  })

  it('counts a run whose global setup threw as failed', () => {
    const result = run('setup')
    expect(result.failed).toBeGreaterThanOrEqual(1)
    expect(result.code).not.toBe(0)
  })

  it('fails a skip that is not on the allowed list, and names it', () => {
    const dir = fileURLToPath(new URL('./fixtures/reporter/skip/', import.meta.url))
    const result = run('skip', { BENTO_ALLOWED_SKIPS: `${dir}allowed` })
    expect(result).toMatchObject({ passed: 1, failed: 1, skipped: 1 })
    expect(result.output).toMatch(
      /not on the list of skips allowed on CI:\n {2}skip\.test\.ts > needs something else/
    )
    // Without the list, a skip is a skip.
    expect(run('skip')).toMatchObject({ passed: 1, failed: 0, skipped: 2 })
  })
})
