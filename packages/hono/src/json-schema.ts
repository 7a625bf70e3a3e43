// Standard Schema to JSON Schema, for the OpenAPI document. Libraries that implement Standard JSON
// Schema (`~standard.jsonSchema`: zod 4, arktype 2) are asked through it, with their own options
// for what JSON Schema can't express (dates, files, transforms); older releases through their own
// methods; valibot through @valibot/to-json-schema when it is installed. Everything is
// duck-typed: this package imports no schema library.
import type { StandardSchemaV1 } from '@bento/core/adapter'
import type { JsonSchema } from './options.ts'

/** How files are described: OpenAPI 3.1's binary string, which Swagger UI offers as an upload. */
const BINARY: JsonSchema = { type: 'string', format: 'binary' }

interface StandardJsonProps {
  vendor: string
  jsonSchema?: Record<'input' | 'output', (options: Record<string, unknown>) => JsonSchema>
}

// Per library, what to do with types JSON Schema can't express: describe them loosely rather than
// fail the whole document.
const LIBRARY_OPTIONS: Record<string, Record<string, unknown>> = {
  zod: {
    unrepresentable: 'any',
    // `z.instanceof(File)` is a custom check that keeps its class: a file, as `z.file()` is.
    override: (ctx: {
      zodSchema: { _zod?: { bag?: { Class?: unknown } } }
      jsonSchema: JsonSchema
    }) => {
      if (isBlobClass(ctx.zodSchema._zod?.bag?.Class)) Object.assign(ctx.jsonSchema, BINARY)
    },
  },
  arktype: {
    fallback: {
      proto: (ctx: { proto: unknown; base: JsonSchema }) =>
        isBlobClass(ctx.proto) ? BINARY : ctx.base,
      date: () => ({ type: 'string', format: 'date-time' }),
      default: (ctx: { base: JsonSchema }) => ctx.base,
    },
  },
}

/**
 * The JSON Schema (draft 2020-12, as OpenAPI 3.1 uses) of a schema's input or output; `{}` (any
 * value) when the library can't say.
 * @example
 * await toJsonSchema(z.object({ name: z.string() }), 'input')
 * // { type: 'object', properties: { name: { type: 'string' } }, required: ['name'] }
 */
export async function toJsonSchema(
  schema: StandardSchemaV1,
  io: 'input' | 'output',
  custom?: (schema: StandardSchemaV1, io: 'input' | 'output') => JsonSchema | undefined
): Promise<JsonSchema> {
  const found = custom?.(schema, io) ?? (await convert(schema, io))
  if (found === undefined) return {}
  const { $schema: _dialect, ...rest } = found
  return rest
}

async function convert(
  schema: StandardSchemaV1,
  io: 'input' | 'output'
): Promise<JsonSchema | undefined> {
  const props = schema['~standard'] as unknown as StandardJsonProps
  const vendor = props.vendor
  const standard = props.jsonSchema?.[io]
  if (typeof standard === 'function') {
    const libraryOptions = LIBRARY_OPTIONS[vendor]
    const attempt = tryConvert(() => standard({ target: 'draft-2020-12', libraryOptions }))
    if (attempt !== undefined) return attempt
  }
  const methods = schema as unknown as Record<string, unknown>
  if (vendor === 'zod' && typeof methods.toJSONSchema === 'function') {
    const method = methods.toJSONSchema as (options: object) => JsonSchema
    return tryConvert(() => method.call(schema, { io, ...LIBRARY_OPTIONS.zod }))
  }
  if (vendor === 'arktype' && typeof methods.toJsonSchema === 'function') {
    const method = methods.toJsonSchema as (options: object) => JsonSchema
    return tryConvert(() => method.call(schema, LIBRARY_OPTIONS.arktype!))
  }
  if (vendor === 'valibot') return valibot(schema, io)
  return undefined
}

// Resolved at run time, not bundled: @valibot/to-json-schema is an optional peer dependency, and a
// bundler must not fail on it when the user has no valibot.
const VALIBOT_CONVERTER = '@valibot/to-json-schema'

async function valibot(
  schema: StandardSchemaV1,
  io: 'input' | 'output'
): Promise<JsonSchema | undefined> {
  let module: { toJsonSchema?: (schema: unknown, options: object) => JsonSchema }
  try {
    module = await import(/* @vite-ignore */ VALIBOT_CONVERTER)
  } catch {
    return undefined
  }
  const convertValibot = module.toJsonSchema
  if (typeof convertValibot !== 'function') return undefined
  return tryConvert(() =>
    convertValibot(schema, {
      target: 'draft-2020-12',
      typeMode: io,
      errorMode: 'ignore',
      overrideSchema: (ctx: { valibotSchema: { type?: string } }) =>
        ctx.valibotSchema.type === 'file' || ctx.valibotSchema.type === 'blob' ? BINARY : undefined,
    })
  )
}

function tryConvert(fn: () => JsonSchema): JsonSchema | undefined {
  try {
    const result = fn()
    return typeof result === 'object' && result !== null ? result : undefined
  } catch {
    return undefined
  }
}

// Bun's File does not inherit from its Blob, hence the explicit File check.
function isBlobClass(proto: unknown): boolean {
  if (typeof proto !== 'function') return false
  if (typeof Blob === 'function' && (proto === Blob || proto.prototype instanceof Blob)) return true
  return typeof File === 'function' && (proto === File || proto.prototype instanceof File)
}

/**
 * True when a JSON Schema contains a binary string anywhere (a file upload).
 * @example
 * hasBinary({ type: 'object', properties: { image: { type: 'string', format: 'binary' } } }) // true
 */
export function hasBinary(schema: unknown): boolean {
  if (typeof schema !== 'object' || schema === null) return false
  const record = schema as Record<string, unknown>
  if (record.format === 'binary' || record.contentEncoding === 'binary') return true
  return Object.values(record).some((value) =>
    Array.isArray(value) ? value.some(hasBinary) : hasBinary(value)
  )
}
