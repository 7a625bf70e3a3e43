// Before any test: generates the Swagger UI module (gitignored; see scripts/swagger-ui.mjs) and makes
// sure @bento/core's dist/ exists, since the other runtimes and the workerd bundle import the
// package as published. `npm test` builds everything first; this covers a bare
// `vitest run --project hono`.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = (path: string) => fileURLToPath(new URL(path, import.meta.url))

export default function setup(): void {
  execFileSync(process.execPath, [here('../scripts/swagger-ui.mjs')], { stdio: 'inherit' })
  const core = here('../../core/')
  if (!existsSync(`${core}dist/index.js`)) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: core,
      stdio: 'inherit',
    })
  }
}
