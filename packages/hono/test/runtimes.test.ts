// The cross-runtime suite under Bun and Deno: each runs test/run-cases.ts in a child process, and
// every case it ran becomes a vitest test here, so a case that fails in one runtime fails this run
// by name. Node runs the same cases in process (app.test.ts).
import { spawn } from 'node:child_process'
import { beforeAll, describe, expect, it } from 'vitest'
import { binaries, packageDir } from './binaries.ts'
import { caseNames } from './cases/index.ts'

// Deno gets only what the adapter needs: reading its modules and the environment (for
// NODE_ENV/BENTO_ENV); no network, no subprocesses, no writes.
const runtimes = {
  bun: [binaries.bun, 'test/run-cases.ts'],
  deno: [binaries.deno, 'run', '--allow-read', '--allow-env', '--no-prompt', 'test/run-cases.ts'],
} as const

interface Report {
  runtime: string
  results: Array<{ name: string; ok: boolean; ms: number; error?: string }>
}

function runCases(
  command: readonly string[]
): Promise<{ report?: Report; output: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    const [file, ...args] = command
    const child = spawn(file!, args, {
      cwd: packageDir,
      env: { ...process.env, NO_COLOR: '1', NODE_ENV: 'test', DENO_NO_UPDATE_CHECK: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let output = ''
    child.stdout.on('data', (chunk) => (output += chunk))
    child.stderr.on('data', (chunk) => (output += chunk))
    const timer = setTimeout(() => child.kill('SIGKILL'), 120_000)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const line = output.split('\n').find((l) => l.startsWith('BENTO_CASES '))
      const report = line ? (JSON.parse(line.slice('BENTO_CASES '.length)) as Report) : undefined
      resolve({ report, output, code })
    })
  })
}

describe.each(Object.keys(runtimes) as Array<keyof typeof runtimes>)('under %s', (name) => {
  let run: Awaited<ReturnType<typeof runCases>>

  beforeAll(async () => {
    run = await runCases(runtimes[name])
  }, 150_000)

  it('runs every case of the suite', () => {
    expect(run.report, `no report from ${name}:\n${run.output}`).toBeDefined()
    expect(run.report!.runtime).toMatch(new RegExp(`^${name} `))
    expect(run.report!.results.map((r) => r.name)).toEqual(caseNames)
    const failed = run.report!.results.filter((r) => !r.ok).length
    expect(run.code, run.output).toBe(failed > 0 ? 1 : 0)
  })

  it.each(caseNames)('%s', (caseName) => {
    const result = run.report?.results.find((r) => r.name === caseName)
    expect(result, `${name} did not run it`).toBeDefined()
    if (!result!.ok) throw new Error(`failed under ${run.report!.runtime}:\n${result!.error}`)
  })
})
