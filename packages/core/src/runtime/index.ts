// Picks the adapter for the runtime this code runs in: the supervisor runs its workers in the same
// runtime, and a worker serves with that runtime's own HTTP server.
import process from 'node:process'
import { bunRuntime } from './bun.ts'
import { denoRuntime } from './deno.ts'
import { type RuntimeName, runtimeName } from './detect.ts'
import { nodeRuntime } from './node.ts'
import type { Runtime } from './types.ts'

export type * from './types.ts'

/**
 * The adapter for the current runtime: Bun, Deno, else Node.
 * @example
 * const runtime = currentRuntime() // runtime.name === 'deno' under `deno run`
 */
export function currentRuntime(): Runtime {
  return { node: nodeRuntime, bun: bunRuntime, deno: denoRuntime }[runtimeName()]
}

/**
 * The runtime flags a worker gets when none are given: on Node the supervisor's own, as
 * node:cluster does (`--import tsx`, `--enable-source-maps`), except the inspector's, whose port
 * only one process can hold; on Bun and Deno none (bento sets Deno's itself).
 * @example
 * spawn({ execArgv: [...inheritedExecArgv(), '--enable-source-maps'] })
 */
export function inheritedExecArgv(runtime: RuntimeName = runtimeName()): string[] {
  return runtime === 'node' ? process.execArgv.filter((arg) => !arg.startsWith('--inspect')) : []
}
