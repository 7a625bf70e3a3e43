// The one place that answers "which runtime is this": everything that differs by runtime asks here.

/** The JavaScript runtimes bento runs on. */
export type RuntimeName = 'node' | 'bun' | 'deno'

/**
 * The runtime this code runs in: Bun and Deno by their globals, else Node.
 * @example
 * if (runtimeName() === 'node') registerTypeScriptHooks()
 */
export function runtimeName(): RuntimeName {
  const g = globalThis as { Bun?: unknown; Deno?: unknown }
  if (g.Bun !== undefined) return 'bun'
  if (g.Deno !== undefined) return 'deno'
  return 'node'
}
