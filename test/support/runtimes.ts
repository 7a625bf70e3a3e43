// The runtimes every process test runs under, and how to start each: written once for the
// suites of every package (core's harness, the CLI's, hono's and the cross-package tests).
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** The repository's root, with a trailing slash. */
export const repoRoot = fileURLToPath(new URL('../../', import.meta.url))

export const RUNTIMES = ['node', 'bun', 'deno'] as const
export type RuntimeName = (typeof RUNTIMES)[number]

/**
 * The repository's pinned Bun (npm `bun`) and Deno (npm `deno`) executables themselves, not
 * node_modules/.bin's shell wrappers: those do not `exec`, so a signal sent to one would not
 * reach the runtime, and killing it would leave the runtime running.
 */
export const binaries = {
  bun: join(repoRoot, 'node_modules/bun/bin/bun.exe'),
  deno: join(repoRoot, 'node_modules/deno/deno'),
} as const

/** How to run a script under each runtime (Deno with every permission, as bento runs it). */
export const runtimeCommand: Record<RuntimeName, string[]> = {
  node: [process.execPath],
  bun: [binaries.bun],
  deno: [binaries.deno, 'run', '--allow-all'],
}
