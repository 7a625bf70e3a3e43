import { createRequire } from 'node:module'
import type * as AddonModule from '../index.d.cts'

/** The options the addon's `probe()` takes. */
export type AddonOptions = AddonModule.NativeProbeOptions

/** The addon's module, as `index.cjs` exports it (typed by `index.d.cts`). */
export type Addon = typeof AddonModule

/** The addon, or why it could not be loaded. */
export type AddonLoad = { addon: Addon } | { error: string }

let loaded: AddonLoad | undefined

/**
 * Loads the native addon once per process and remembers the outcome, error included: a missing
 * binary stays missing, and retrying would cost a filesystem search on every probe.
 * @example
 * const result = loadAddon()
 * if ('addon' in result) result.addon.probe({ gpu: false })
 * else console.warn(result.error)
 */
export function loadAddon(): AddonLoad {
  loaded ??= load()
  return loaded
}

function load(): AddonLoad {
  try {
    // index.cjs sits at the package root, one level above both lib/ and dist/.
    const addon = createRequire(import.meta.url)('../index.cjs') as Partial<Addon> | undefined
    if (typeof addon?.probe !== 'function') {
      return { error: 'index.cjs loaded but does not export a probe() function' }
    }
    return { addon: addon as Addon }
  } catch (error) {
    return { error: error instanceof Error ? error.message : String(error) }
  }
}
