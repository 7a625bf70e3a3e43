// The tests that compare against the addon fail when it does not load: a comparison that quietly
// compares nothing proves nothing. BENTO_PROBE_ALLOW_NO_ADDON=1 turns that into a skip that says why.
import type { TestContext } from 'vitest'
import { type Addon, loadAddon } from '../lib/addon.ts'

/**
 * Returns the loaded addon, or fails the test (skips it, with the reason, under
 * BENTO_PROBE_ALLOW_NO_ADDON=1).
 * @example
 * it('agrees with the addon', (ctx) => { const addon = requireAddon(ctx); ... })
 */
export function requireAddon(ctx: TestContext): Addon {
  const loaded = loadAddon()
  if ('addon' in loaded) return loaded.addon
  if (process.env.BENTO_PROBE_ALLOW_NO_ADDON === '1') {
    ctx.skip(`the native addon did not load and BENTO_PROBE_ALLOW_NO_ADDON=1: ${loaded.error}`)
  }
  throw new Error(
    `the native addon did not load: ${loaded.error}\nBuild it (cd native && ../node_modules/.bin/napi build --platform --release --no-js --output-dir .) or set BENTO_PROBE_ALLOW_NO_ADDON=1 to test the fallback alone.`
  )
}
