// Environment access that works on Node, Bun, Deno and edge runtimes (where there may be no
// environment at all), without importing any `node:` module.

interface DenoEnv {
  env: { get(name: string): string | undefined; toObject(): Record<string, string> }
}

/**
 * Reads an environment variable; `undefined` when unset, empty, or the runtime has no environment.
 */
export function readEnv(name: string): string | undefined {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: DenoEnv }
  let value: string | undefined
  try {
    value = g.process?.env?.[name] ?? g.Deno?.env.get(name)
  } catch {
    // Deno without --allow-env throws; that is the same as unset here.
    value = undefined
  }
  return value === '' ? undefined : value
}

/**
 * The whole environment as a plain object (empty where the runtime has none or denies it).
 * @example
 * const env = { ...environment(), BENTO_WORKER_INDEX: '1' }
 */
export function environment(): Record<string, string> {
  const g = globalThis as { process?: { env?: Record<string, string | undefined> }; Deno?: DenoEnv }
  try {
    if (g.process?.env) {
      const out: Record<string, string> = {}
      for (const [key, value] of Object.entries(g.process.env)) {
        if (value !== undefined) out[key] = value
      }
      return out
    }
    return g.Deno?.env.toObject() ?? {}
  } catch {
    return {}
  }
}
