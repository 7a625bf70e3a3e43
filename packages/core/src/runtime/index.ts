// Picks the adapter for the runtime this code runs in: the supervisor runs its workers in the same
// runtime, and a worker serves with that runtime's own HTTP server.
import { bunRuntime } from './bun.ts'
import { denoRuntime } from './deno.ts'
import { runtimeName } from './detect.ts'
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
