// Imports the user's entry and finds what to serve. TypeScript entries work on Node 20 through tsx
// (registered on demand, so plain JavaScript projects pay nothing); Bun and Deno run them natively.
import { extname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { isService, type Service } from '@bento/core'
import { CliError } from './errors.ts'
import { resolveBentoFromHere } from './self.ts'

/** What an entry exports: a bento service, or any fetch handler (a Hono app that mounts services). */
export type Entry =
  | { kind: 'service'; file: string; service: Service; exportName: string }
  | {
      kind: 'app'
      file: string
      fetch: (request: Request) => Response | Promise<Response>
      exportName: string
    }

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/** True on Node (not Bun or Deno, which also define `process.versions.node`). */
function isNode(): boolean {
  const g = globalThis as { Bun?: unknown; Deno?: unknown }
  return g.Bun === undefined && g.Deno === undefined
}

/**
 * Imports a module; on Node a TypeScript one goes through tsx (which also handles `.ts` files
 * outside a `"type": "module"` package), on Bun and Deno natively.
 * @example
 * const module = await importModule('/app/service.ts')
 */
export async function importModule(file: string): Promise<Record<string, unknown>> {
  if (isNode() && TYPESCRIPT.has(extname(file))) {
    const { tsImport } = await import('tsx/esm/api')
    return tsImport(pathToFileURL(file).href, import.meta.url)
  }
  return import(pathToFileURL(file).href)
}

/**
 * Imports `file` and returns the service it exports (its default export, else its only exported
 * service), or failing that a default export with a `fetch` method.
 * @example
 * const entry = await loadEntry('/app/service.ts')
 * if (entry.kind === 'service') console.log(entry.service.name)
 */
export async function loadEntry(file: string, source = file): Promise<Entry> {
  resolveBentoFromHere(source)
  let namespace: Record<string, unknown>
  try {
    namespace = await importModule(file)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    const failure = new CliError(
      `could not load ${source}: ${message}`,
      'fix the error above in your service file'
    )
    failure.cause = error
    throw failure
  }
  // A .ts file outside a "type": "module" package is compiled to CommonJS: its exports arrive
  // wrapped in `default`.
  const wrapped = namespace.default as Record<string, unknown> | undefined
  const module =
    wrapped && typeof wrapped === 'object' && '__esModule' in wrapped ? wrapped : namespace
  if (isService(module.default))
    return { kind: 'service', file: source, service: module.default, exportName: 'default' }
  const services = Object.entries(module).filter(([, value]) => isService(value))
  if (services.length === 1) {
    const [exportName, service] = services[0]!
    return { kind: 'service', file: source, service: service as Service, exportName }
  }
  if (services.length > 1) {
    throw new CliError(
      `${source} exports ${services.length} services (${services.map(([name]) => name).join(', ')})`,
      'export the one to serve as the default export, or mount them all in one Hono app and export that'
    )
  }
  const app = module.default as { fetch?: unknown } | undefined
  if (app && typeof app.fetch === 'function') {
    const fetch = (app.fetch as (request: Request) => Response | Promise<Response>).bind(app)
    return { kind: 'app', file: source, fetch, exportName: 'default' }
  }
  throw new CliError(
    `${source} exports no service`,
    "export one: `export default service({ name, apis })` from 'bento' (or '@bento/core')"
  )
}
