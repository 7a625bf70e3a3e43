// What an entry module offers to serve: a service (its default export, else its only exported
// service), or an app (a default export with a `fetch` method, such as a Hono app that mounts
// services). The same rule in the workers, the deployment process and `bento info`.
import { BentoConfigError } from '../errors.ts'
import type { Service } from '../service/types.ts'
import { isService } from '../service/types.ts'

/** What an entry exports. */
export type EntryExport =
  | { kind: 'service'; service: Service; exportName: string }
  | { kind: 'app'; fetch: (request: Request) => Response | Promise<Response>; exportName: string }

/**
 * The service or app `module` exports; `file` names it in errors.
 * @example
 * const found = findExport(await import('./service.ts'), 'service.ts')
 */
export function findExport(module: Record<string, unknown>, file: string): EntryExport {
  // A .ts file outside a "type": "module" package is compiled to CommonJS: its exports arrive
  // wrapped in `default`.
  const wrapped = module.default as Record<string, unknown> | undefined
  const exports =
    wrapped && typeof wrapped === 'object' && '__esModule' in wrapped ? wrapped : module
  if (isService(exports.default)) {
    return { kind: 'service', service: exports.default, exportName: 'default' }
  }
  const services = Object.entries(exports).filter(([, value]) => isService(value))
  if (services.length === 1) {
    const [exportName, service] = services[0]!
    return { kind: 'service', service: service as Service, exportName }
  }
  if (services.length > 1) {
    throw new BentoConfigError({
      field: file,
      problem: `exports ${services.length} services (${services.map(([name]) => name).join(', ')}) and none as the default export`,
      fix: 'export the one to serve as the default export (it may depend on the others), or mount them all in one Hono app and export that',
    })
  }
  const app = exports.default as { fetch?: unknown } | undefined
  if (app && typeof app.fetch === 'function') {
    const fetch = (app.fetch as (request: Request) => Response | Promise<Response>).bind(app)
    return { kind: 'app', fetch, exportName: 'default' }
  }
  throw new BentoConfigError({
    field: file,
    problem: 'exports no service',
    fix: "export one: `export default service({ name, apis })` from 'bento' (or '@bento/core')",
  })
}
