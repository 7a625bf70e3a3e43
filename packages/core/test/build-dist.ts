// Makes sure dist/ is current before the process tests: their supervisors and workers run under
// Node, Bun and Deno and import the built package, as users do. `npm test` built it already.
import { fileURLToPath } from 'node:url'
// @ts-expect-error: a plain .mjs script without types
import { ensureBuilt } from '../../../scripts/ensure-built.mjs'

export default function setup() {
  ensureBuilt(fileURLToPath(new URL('..', import.meta.url)), ['src'])
}
