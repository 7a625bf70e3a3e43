// Before any test: generates the Swagger UI module (gitignored; see scripts/swagger-ui.mjs) and makes
// sure @bento/core's dist/ exists, since the other runtimes and the workerd bundle import the
// package as published. `npm test` builds everything first; this covers a bare
// `vitest run --project hono`.
import { execFileSync } from 'node:child_process'
import { fileURLToPath } from 'node:url'
// @ts-expect-error: a plain .mjs script without types
import { ensureBuilt } from '../../../scripts/ensure-built.mjs'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default function setup(): void {
  execFileSync(process.execPath, [here('../scripts/swagger-ui.mjs')], { stdio: 'inherit' })
  ensureBuilt(here('../../core/'), ['src'])
}
