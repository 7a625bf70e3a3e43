// Edge platforms cap a worker at a few MB: Swagger UI (about 2 MB) must land only in bundles that
// serve the docs page. Bundled for workerd as a user would, a service with `docs: false` carries
// none of it; the workerd test's worker, which passes `docs: { ui }`, carries it.
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'

// A string only Swagger UI's own bundle contains.
const SWAGGER_UI = 'webpackUniversalModuleDefinition'

async function bundle(entry: string) {
  const result = await build({
    entryPoints: [fileURLToPath(new URL(entry, import.meta.url))],
    bundle: true,
    write: false,
    minify: true,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    conditions: ['workerd', 'worker', 'browser'],
    mainFields: ['module', 'main'],
    logLevel: 'silent',
  })
  return result.outputFiles[0]!.text
}

describe('edge bundles', () => {
  it('leave Swagger UI out with docs: false, and keep it with docs: { ui }', async () => {
    const without = await bundle('./bundle/no-docs.ts')
    const withUi = await bundle('./workerd/worker.ts')
    expect(without.includes(SWAGGER_UI)).toBe(false)
    expect(withUi.includes(SWAGGER_UI)).toBe(true)
    expect(withUi.length - without.length).toBeGreaterThan(1_500_000)
    console.log(
      `minified for workerd: docs: false ${(without.length / 1024).toFixed(0)} KiB, docs: { ui } ${(withUi.length / 1024).toFixed(0)} KiB`
    )
  })

  it('give a browser the typed client with no Node built-in and none of the server', async () => {
    const code = await bundle('./bundle/client.ts')
    expect(code).not.toMatch(/["']node:/)
    // Neither the supervisor, the HTTP adapter nor a schema library comes along.
    expect(code).not.toMatch(/supervise|toHono|zod/)
    expect(code.length).toBeLessThan(40 * 1024)
    console.log(`minified typed client: ${(code.length / 1024).toFixed(1)} KiB`)
  })
})
