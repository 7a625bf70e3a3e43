// Every option of `toHono` and its default, merged in one place so the rest of the package reads a
// complete, validated settings object.
import { DEFAULTS } from '@bento/core'
import { parseBytes, readEnv, type StandardSchemaV1, VARS } from '@bento/core/adapter'
import type { SwaggerUiAssets } from './swagger-ui.ts'

/**
 * A JSON Schema object, as OpenAPI 3.1 embeds it.
 * @example
 * const schema: JsonSchema = { type: 'object', properties: { name: { type: 'string' } } }
 */
export type JsonSchema = Record<string, unknown>

/**
 * Options of `toHono`. Every field is optional; `DEFAULTS.adapter` (@bento/core) lists the defaults.
 * @example
 * const options: ToHonoOptions = { bodyLimit: '50Mi', docs: false, openapi: { version: '1.2.0' } }
 */
export interface ToHonoOptions {
  /**
   * Largest request body accepted, in bytes or as a size such as `'10Mi'`; bigger bodies get `413`
   * before they are read. Default: the service's `http.bodyLimit` (10 MiB unless it sets one).
   */
  bodyLimit?: number | string
  /** JSON bodies nested deeper than this get `400` before any handler sees them. Default 128. */
  maxJsonDepth?: number
  /**
   * Development mode: outputs are validated against their schema and `500` responses carry the
   * error's message and stack. Default: true when `NODE_ENV` or `BENTO_ENV` is `development`.
   */
  dev?: boolean
  /**
   * Serve the OpenAPI document at `/docs.json` and Swagger UI at `/`. Default: the service's
   * `expose.docs` (true unless it says otherwise). Unbundled, the
   * page's files are loaded when first asked for; a bundle (an edge worker) that wants the page
   * passes them: `docs: { ui: swaggerUi }` from `@bento/hono/swagger-ui`, so that a bundle without
   * it stays about 2 MB smaller.
   */
  docs?: boolean | { ui?: SwaggerUiAssets }
  /** Serve Prometheus metrics at `/metrics`. Default: the service's `expose.metrics` (true). */
  metrics?: boolean
  /** Serve `/livez`, `/healthz` and `/readyz`. Default true. */
  health?: boolean
  /**
   * The public path prefix the app is reached under, for the docs page and the OpenAPI `servers`
   * entry. Default: found from each request's path, which is right when mounted with
   * `app.route('/ml', ...)`; set it when a proxy strips a prefix before the request arrives.
   */
  basePath?: string
  /** `info` of the OpenAPI document. Default: the service's name, version `0.0.0`. */
  openapi?: { title?: string; version?: string; description?: string }
  /**
   * Turns a schema into JSON Schema for the docs, for a library the built-in conversion does not
   * know (zod, valibot, arktype and any Standard JSON Schema library are known). Return
   * `undefined` to fall back to the built-in conversion.
   */
  toJsonSchema?: (schema: StandardSchemaV1, io: 'input' | 'output') => JsonSchema | undefined
  /**
   * Called with every error that becomes a `500`, and with every failed dependency call a handler
   * let through (its `503` or `504` names only the dependency and its status; the callee's body and
   * the transport error are for this log). Default: `console.error`.
   */
  onError?: (error: unknown, info: { requestId: string; api: string }) => void
  /**
   * `'in-process'`: call the services this one depends on (those without a `url`) in this
   * process, through apps of their own, for a plain Hono app or an edge worker where `bento
   * serve` does not run them. Off by default: a dependency with no address is then an error
   * naming the fix, never silently run here.
   */
  dependencies?: 'in-process'
}

/** The options with every default applied. */
export interface ResolvedOptions {
  /** `undefined`: the service's own `http.bodyLimit`. */
  bodyLimit: number | undefined
  maxJsonDepth: number
  dev: boolean
  /** `undefined`: the service's `expose.docs`. */
  docs: boolean | undefined
  /** The Swagger UI files given with `docs: { ui }`. */
  docsUi: SwaggerUiAssets | undefined
  /** `undefined`: the service's `expose.metrics`. */
  metrics: boolean | undefined
  health: boolean
  basePath: string | undefined
  openapi: { title: string | undefined; version: string; description: string | undefined }
  toJsonSchema: ToHonoOptions['toJsonSchema']
  onError: NonNullable<ToHonoOptions['onError']>
  dependencies: 'in-process' | undefined
}

// toHono's defaults are @bento/core's `DEFAULTS.adapter` (the body limit, docs and metrics are
// the service's own, `http.bodyLimit` and `expose`, whose defaults are there too).
const DEFAULT_OPTIONS = DEFAULTS.adapter

/**
 * Applies the defaults to `options` and checks them.
 * @example
 * const { bodyLimit } = resolveOptions({ bodyLimit: '1Mi' }) // 1048576
 */
export function resolveOptions(options: ToHonoOptions = {}): ResolvedOptions {
  const bodyLimit = options.bodyLimit === undefined ? undefined : parseBytes(options.bodyLimit)
  if (options.bodyLimit !== undefined && !(bodyLimit !== undefined && bodyLimit >= 0)) {
    throw new TypeError(
      `toHono: bodyLimit must be a number of bytes or a size such as "10Mi", got ${String(options.bodyLimit)}`
    )
  }
  const maxJsonDepth = options.maxJsonDepth ?? DEFAULT_OPTIONS.maxJsonDepth
  if (!(Number.isInteger(maxJsonDepth) && maxJsonDepth >= 1)) {
    throw new TypeError(
      `toHono: maxJsonDepth must be a whole number of at least 1, got ${String(options.maxJsonDepth)}`
    )
  }
  if (options.dependencies !== undefined && options.dependencies !== 'in-process') {
    throw new TypeError(
      `toHono: dependencies must be 'in-process' or left out, got ${String(options.dependencies)}`
    )
  }
  const basePath = options.basePath === undefined ? undefined : trimSlash(options.basePath)
  if (basePath !== undefined && basePath !== '' && !basePath.startsWith('/')) {
    throw new TypeError(`toHono: basePath must start with "/", got ${options.basePath}`)
  }
  return {
    bodyLimit,
    maxJsonDepth,
    dev: options.dev ?? isDevelopment(),
    docs: options.docs === undefined ? undefined : options.docs !== false,
    docsUi: typeof options.docs === 'object' ? options.docs.ui : undefined,
    metrics: options.metrics,
    health: options.health ?? DEFAULT_OPTIONS.health,
    basePath,
    openapi: {
      title: options.openapi?.title,
      version: options.openapi?.version ?? DEFAULT_OPTIONS.openapiVersion,
      description: options.openapi?.description,
    },
    toJsonSchema: options.toJsonSchema,
    onError: options.onError ?? logError,
    dependencies: options.dependencies,
  }
}

function isDevelopment(): boolean {
  return readEnv('NODE_ENV') === 'development' || readEnv(VARS.env) === 'development'
}

function logError(error: unknown, info: { requestId: string; api: string }): void {
  console.error(`[bento] ${info.api}: request ${info.requestId} failed:`, error)
}

function trimSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path
}
