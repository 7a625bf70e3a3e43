// Runs test/print-probe.mjs in a child process, under a given runtime and environment.
import { spawnSync } from 'node:child_process'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { ProbeOptions, ProbeResult } from '../lib/types.ts'

/** The monorepo root, found from this file rather than the working directory. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

/** Absolute path of the script the children run. */
export const printProbe = fileURLToPath(new URL('./print-probe.mjs', import.meta.url))

/** The command that runs a script under each runtime. */
export const runtimes = {
  node: [process.execPath],
  bun: [join(repoRoot, 'node_modules/.bin/bun')],
  deno: [join(repoRoot, 'node_modules/.bin/deno'), 'run', '--allow-all'],
} as const

/** How to start the child: its runtime command, extra environment, and a command it runs under. */
export interface RunOptions {
  runtime?: readonly string[]
  env?: Record<string, string>
  /** Prepended to the command line, e.g. `['sh', '-c', '…; exec "$@"', 'sh']`. */
  wrap?: readonly string[]
}

/**
 * Runs `probe(options)` in a child process and returns its result; throws with the child's output
 * when it fails.
 * @example
 * const result = runProbe({ gpu: false }, { runtime: runtimes.bun })
 */
export function runProbe(options: ProbeOptions, run: RunOptions = {}): ProbeResult {
  const { runtime = runtimes.node, env = {}, wrap = [] } = run
  const [command, ...args] = [...wrap, ...runtime, printProbe, JSON.stringify(options)]
  const child = spawnSync(command!, args, {
    encoding: 'utf8',
    timeout: 60_000,
    killSignal: 'SIGKILL',
    env: { ...inheritedEnv(), NO_COLOR: '1', ...env },
  })
  if (child.status !== 0) {
    const how = child.error?.message ?? `exit ${child.status ?? child.signal}`
    throw new Error(`${command} ${args.join(' ')} failed (${how}):\n${child.stderr}${child.stdout}`)
  }
  return JSON.parse(child.stdout) as ProbeResult
}

// The test's own BENTO_* and FAKE_NVML_* settings must not leak into what a child probes.
function inheritedEnv(): Record<string, string | undefined> {
  return Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(BENTO_|FAKE_NVML_)/.test(name))
  )
}
