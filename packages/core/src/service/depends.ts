// `depends()`, and what `service()` makes of the `depends` of a service and of its APIs: one table
// of the services it calls, each checked to be a service, with its URL when it is served elsewhere.
import { BentoConfigError, describe } from '../errors.ts'
import type { Fail } from './fields.ts'
import {
  DEPENDENCY,
  type Dependency,
  isService,
  type ResolvedDependency,
  type Service,
} from './types.ts'

/** Options of `depends()`. */
export interface DependsOptions {
  /** The base URL the service answers at, when it is served elsewhere (another Deployment). */
  url?: string
  /**
   * Headers sent with every call to `url` (an `authorization` the service requires, say); never
   * to the workers bento serves here. Over `$BENTO_DEPENDS_TOKEN`.
   */
  headers?: Record<string, string>
}

/**
 * A dependency on `service` with options: `url` calls it where it is served instead of serving it
 * here. A bare service in `depends` is the same as `depends(service)`.
 * @example
 * depends: { embedder: depends(embedder, { url: process.env.EMBEDDER_URL }) }
 */
// biome-ignore lint/suspicious/noExplicitAny: a dependency may be any service
export function depends<S extends Service<any, any, any>>(
  service: S,
  options: DependsOptions = {}
): Dependency<S> {
  const url = options.url
  if (url !== undefined) checkUrl(url, `depends(${nameOf(service)}, { url })`)
  const headers = options.headers
  if (headers !== undefined) checkHeaders(headers, `depends(${nameOf(service)}, { headers })`)
  return Object.freeze({
    [DEPENDENCY]: true as const,
    service,
    url,
    headers: headers && Object.freeze({ ...headers }),
  })
}

/**
 * True when `value` was made by `depends()` (in any copy of this package).
 * @example
 * isDependency(depends(embedder)) // true
 */
export function isDependency(value: unknown): value is Dependency {
  return typeof value === 'object' && value !== null && (value as Dependency)[DEPENDENCY] === true
}

/**
 * The services a service calls: its own `depends` and each API's, by name. The same name in both
 * must be the same service.
 * @example
 * const table = resolveDepends(config.depends, config.apis, fail)
 */
export function resolveDepends(
  own: unknown,
  apis: Record<string, { depends?: unknown }>,
  fail: Fail
): Record<string, ResolvedDependency> {
  const table: Record<string, ResolvedDependency> = {}
  const add = (map: unknown, field: string) => {
    if (map === undefined) return
    if (typeof map !== 'object' || map === null || Array.isArray(map) || isService(map)) {
      fail(
        field,
        `must be an object of services, got ${isService(map) ? 'a service' : describe(map)}`,
        `write ${field}: { embedder } (the name handlers call it by, and the service)`
      )
    }
    for (const [name, value] of Object.entries(map as Record<string, unknown>)) {
      const resolved = resolveOne(value, `${field}.${name}`, fail)
      const known = table[name]
      if (known !== undefined && known.service !== resolved.service) {
        fail(
          `${field}.${name}`,
          `is the service "${resolved.service.name}", but "${name}" already names "${known.service.name}"`,
          'give each dependency one name in the whole service'
        )
      }
      if (known?.url !== undefined && resolved.url === undefined) continue
      table[name] = resolved
    }
  }
  add(own, 'depends')
  for (const [api, definition] of Object.entries(apis)) {
    add(definition?.depends, `apis.${api}.depends`)
  }
  return table
}

function resolveOne(value: unknown, field: string, fail: Fail): ResolvedDependency {
  if (isDependency(value)) {
    if (!isService(value.service)) {
      fail(field, 'wraps something that is not a service', 'pass depends(service, options)')
    }
    return { service: value.service, url: value.url, headers: value.headers }
  }
  if (isService(value)) return { service: value, url: undefined, headers: undefined }
  const hint =
    value === undefined
      ? ' (an import that is still undefined: two modules importing each other?)'
      : ''
  return fail(
    field,
    `must be a service or depends(service, { url }), got ${describe(value)}${hint}`,
    'import the service it calls and list it: depends: { embedder }'
  )
}

function nameOf(service: unknown): string {
  return describe(isService(service) ? service.name : service)
}

/**
 * Checks a dependency's base URL: http or https, no query or fragment; a `BentoConfigError`
 * naming `field` otherwise.
 * @example
 * checkUrl('http://embedder:3000', '--depends embedder')
 */
export function checkUrl(url: unknown, field: string): string {
  let parsed: URL | undefined
  try {
    parsed = typeof url === 'string' ? new URL(url) : undefined
  } catch {
    parsed = undefined
  }
  if (
    parsed === undefined ||
    !['http:', 'https:'].includes(parsed.protocol) ||
    parsed.search !== '' ||
    parsed.hash !== ''
  ) {
    throw new BentoConfigError({
      field,
      problem: `must be an http:// or https:// base URL without a query or fragment, got ${describe(url)}`,
      fix: 'write the address the service answers at, e.g. http://embedder:3000',
    })
  }
  return url as string
}

// Header names and values as fetch takes them: a name of token characters, a value without line
// breaks (which would end the header and start another).
function checkHeaders(headers: unknown, field: string): void {
  const fail = (problem: string) => {
    throw new BentoConfigError({
      field,
      problem,
      fix: "write headers: { authorization: 'Bearer ' + token }, with strings for values",
    })
  }
  if (typeof headers !== 'object' || headers === null || Array.isArray(headers)) {
    fail(`must be an object of header names and values, got ${describe(headers)}`)
  }
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(name))
      fail(`has a header name that is not one: ${describe(name)}`)
    if (typeof value !== 'string' || /[\r\n\0]/.test(value)) {
      fail(
        `${name} must be a string without line breaks, got ${typeof value === 'string' ? 'one with a line break' : describe(value)}`
      )
    }
  }
}
