// APIs: `api()`, which only types a definition, and their checks when `service()` takes them.
import { describe } from '../errors.ts'
import { DEFAULTS } from './defaults.ts'
import { type Fail, isPositive, isPositiveInteger, knownKeys } from './fields.ts'
import { isStandardSchema, type StandardSchemaV1 } from './schema.ts'
import type {
  ApiDefinition,
  BatchApi,
  HandlerResult,
  NormalizedApi,
  SingleApi,
  UntypedDepends,
} from './types.ts'

type Awaitable<T> = T | Promise<T>
type OutputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown

/** The keys an API definition may have. */
export const API_KEYS = [
  'input',
  'output',
  'route',
  'method',
  'description',
  'stream',
  'forms',
  'batchable',
  'maxBatchSize',
  'maxLatencyMs',
  'depends',
  'handler',
] as const

/**
 * Declares an API with its schemas, so the handler's input and output are typed from them, and
 * so are the clients of other services in `ctx.depends` when the API lists them in `depends`.
 * @example
 * const greet = api({
 *   input: z.object({ name: z.string() }),
 *   handler: ({ name }) => ({ message: `Hello, ${name}!` }),
 * })
 * const search = api({
 *   depends: { embedder },
 *   input: z.object({ q: z.string() }),
 *   handler: async ({ q }, ctx) => (await ctx.depends.embedder.embed({ text: q })).vector,
 * })
 */
export function api<
  InSchema extends StandardSchemaV1 | undefined = undefined,
  OutSchema extends StandardSchemaV1 | undefined = undefined,
  State = unknown,
  Deps = UntypedDepends,
  Result extends Awaitable<OutputOf<OutSchema>[]> = Awaitable<OutputOf<OutSchema>[]>,
>(
  definition: BatchApi<InSchema, OutSchema, State, Deps, Result>
): BatchApi<InSchema, OutSchema, State, Deps, Result>
export function api<
  InSchema extends StandardSchemaV1 | undefined = undefined,
  OutSchema extends StandardSchemaV1 | undefined = undefined,
  State = unknown,
  Deps = UntypedDepends,
  Result extends HandlerResult<OutSchema> = HandlerResult<OutSchema>,
>(
  definition: SingleApi<InSchema, OutSchema, State, Deps, Result>
): SingleApi<InSchema, OutSchema, State, Deps, Result>
export function api(definition: ApiDefinition): ApiDefinition {
  return definition
}

/**
 * A service's APIs, checked, with their routes, methods and batch settings resolved, in
 * declaration order.
 * @example
 * const apis = normalizeApis({ greet: api({ handler }) }, fail)
 */
export function normalizeApis(apis: unknown, fail: Fail): NormalizedApi[] {
  if (typeof apis !== 'object' || apis === null || Array.isArray(apis)) {
    fail(
      'apis',
      `must be an object of APIs, got ${describe(apis)}`,
      'write apis: { predict: api({ handler }) }'
    )
  }
  const routes = new Map<string, string>()
  return Object.entries(apis as Record<string, ApiDefinition>).map(([name, definition]) => {
    const field = `apis.${name}`
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      fail(
        field,
        'is not a valid API name',
        'use letters, digits, "_" and "-", starting with a letter'
      )
    }
    if (
      typeof definition !== 'object' ||
      definition === null ||
      typeof definition.handler !== 'function'
    ) {
      fail(
        `${field}.handler`,
        'must be a function',
        `write ${name}: api({ handler: (input) => ... })`
      )
    }
    knownKeys(definition as unknown as Record<string, unknown>, API_KEYS, field, fail)
    for (const key of ['input', 'output'] as const) {
      if (definition[key] !== undefined && !isStandardSchema(definition[key])) {
        fail(
          `${field}.${key}`,
          'is not a Standard Schema',
          'use a zod, valibot or arktype schema (anything implementing Standard Schema v1)'
        )
      }
    }
    const route = definition.route ?? `/${name}`
    if (typeof route !== 'string' || !route.startsWith('/')) {
      fail(
        `${field}.route`,
        `must start with "/", got ${describe(route)}`,
        `write route: "/${name}"`
      )
    }
    const method = definition.method ?? 'POST'
    if (!['POST', 'GET', 'PUT'].includes(method)) {
      fail(
        `${field}.method`,
        `must be "POST", "GET" or "PUT", got ${describe(method)}`,
        'leave it out for POST'
      )
    }
    const key = `${method} ${route}`
    if (routes.has(key)) {
      fail(
        `${field}.route`,
        `repeats ${key} of apis.${routes.get(key)}`,
        'give each API its own route'
      )
    }
    routes.set(key, name)
    const stream = definition.stream ?? 'sse'
    if (stream !== 'sse' && stream !== 'text') {
      fail(
        `${field}.stream`,
        `must be "sse" or "text", got ${describe(stream)}`,
        'leave it out for server-sent events'
      )
    }
    if (definition.forms !== undefined && typeof definition.forms !== 'boolean') {
      fail(
        `${field}.forms`,
        `must be true or false, got ${describe(definition.forms)}`,
        'write forms: true to accept form posts (an input with a file accepts them anyway)'
      )
    }
    const normalized = { ...definition, name, route, method, stream }
    if (definition.batchable === true) {
      const batch = { ...DEFAULTS.batch, ...definition }
      if (!isPositiveInteger(batch.maxBatchSize)) {
        fail(
          `${field}.maxBatchSize`,
          `must be a positive integer, got ${describe(batch.maxBatchSize)}`,
          'use e.g. maxBatchSize: 32'
        )
      }
      if (!isPositive(batch.maxLatencyMs)) {
        fail(
          `${field}.maxLatencyMs`,
          `must be a positive number of milliseconds, got ${describe(batch.maxLatencyMs)}`,
          'use e.g. maxLatencyMs: 100'
        )
      }
      return {
        ...normalized,
        maxBatchSize: batch.maxBatchSize,
        maxLatencyMs: batch.maxLatencyMs,
      } as NormalizedApi
    }
    return normalized as NormalizedApi
  })
}
