// The OpenAPI 3.1 document of a service, built from its APIs' schemas. OpenAPI 3.1 embeds JSON
// Schema draft 2020-12 as is, so converted schemas go in unchanged.
import type { NormalizedApi, Service } from '@bento/core'
import { hasBinary, toJsonSchema } from './json-schema.ts'
import {
  type JsonSchema,
  type ResolvedOptions,
  resolveOptions,
  type ToHonoOptions,
} from './options.ts'

/**
 * An OpenAPI 3.1 document (the parts this package writes).
 * @example
 * const doc: OpenApiDocument = await buildOpenApi(service)
 * Object.keys(doc.paths) // ['/greet']
 */
export interface OpenApiDocument {
  openapi: '3.1.0'
  info: { title: string; version: string; description?: string }
  servers?: Array<{ url: string }>
  paths: Record<string, Record<string, unknown>>
  components: { schemas: Record<string, JsonSchema> }
}

const ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: { type: 'string', description: 'What went wrong.' },
    requestId: { type: 'string', description: 'Also sent in the x-request-id header.' },
  },
  required: ['error', 'requestId'],
}

const VALIDATION_ERROR_SCHEMA: JsonSchema = {
  type: 'object',
  properties: {
    error: { type: 'string' },
    requestId: { type: 'string' },
    issues: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          path: {
            type: 'string',
            description: 'Dotted path of the offending field, e.g. items.0.name.',
          },
          message: { type: 'string' },
        },
        required: ['path', 'message'],
      },
    },
  },
  required: ['error', 'requestId', 'issues'],
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` })
const errorResponse = (description: string, headers?: Record<string, unknown>) => ({
  description,
  ...(headers && { headers }),
  content: { 'application/json': { schema: ref('Error') } },
})

/**
 * The OpenAPI 3.1 document of `service` (what `/docs.json` serves, without `servers`): one
 * operation per API with its request and response schemas and every error status the adapter can
 * answer. Handy to write the document to a file for client generators.
 * @example
 * const doc = await buildOpenApi(service, { openapi: { version: '1.0.0' } })
 * doc.paths['/greet']?.post
 */
export function buildOpenApi(
  service: Service<unknown>,
  options: Pick<ToHonoOptions, 'openapi' | 'toJsonSchema'> = {}
): Promise<OpenApiDocument> {
  return buildDocument(service, resolveOptions(options))
}

/**
 * `buildOpenApi` with options already resolved, as the app calls it.
 * @example
 * const doc = await buildDocument(service, resolveOptions())
 */
export async function buildDocument(
  service: Service<unknown>,
  options: Pick<ResolvedOptions, 'openapi' | 'toJsonSchema'>
): Promise<OpenApiDocument> {
  const { title, version, description } = options.openapi
  const doc: OpenApiDocument = {
    openapi: '3.1.0',
    info: { title: title ?? service.name, version, ...(description && { description }) },
    paths: {},
    components: { schemas: { Error: ERROR_SCHEMA, ValidationError: VALIDATION_ERROR_SCHEMA } },
  }
  for (const api of service.apis) {
    doc.paths[api.route] ??= {}
    doc.paths[api.route]![api.method.toLowerCase()] = await operation(service, api, options)
  }
  return doc
}

async function operation(
  service: Service<unknown>,
  api: NormalizedApi,
  options: Pick<ResolvedOptions, 'toJsonSchema'>
): Promise<Record<string, unknown>> {
  const convert = (schema: NormalizedApi['input'], io: 'input' | 'output') =>
    schema === undefined ? Promise.resolve({}) : toJsonSchema(schema, io, options.toJsonSchema)
  const input = await convert(api.input, 'input')
  const output = await convert(api.output, 'output')
  const op: Record<string, unknown> = { operationId: api.name, summary: api.name }
  const notes = [
    api.description,
    api.batchable ? 'Requests are grouped into batches for the model.' : undefined,
  ]
  const text = notes.filter(Boolean).join('\n\n')
  if (text) op.description = text

  if (api.method === 'GET') {
    op.parameters = queryParameters(input)
  } else {
    // A file can't travel in JSON, so a schema with one is offered as a form only.
    const media = hasBinary(input) ? 'multipart/form-data' : 'application/json'
    op.requestBody = { required: api.input !== undefined, content: { [media]: { schema: input } } }
  }

  const responses: Record<string, unknown> = {
    '200': { description: 'The answer.', content: success(api, output) },
  }
  if (api.input !== undefined) {
    responses['400'] = {
      description: 'The input does not match the schema.',
      content: { 'application/json': { schema: ref('ValidationError') } },
    }
  }
  if (api.method !== 'GET') {
    responses['413'] = errorResponse('The body is larger than the limit.')
    responses['415'] = errorResponse('The body is neither JSON nor a form.')
  }
  responses['500'] = errorResponse('The handler failed.')
  if (service.settings.traffic.maxConcurrency !== undefined || api.batchable) {
    responses['503'] = errorResponse('The worker is at capacity; retry after the given delay.', {
      'Retry-After': { description: 'Seconds to wait.', schema: { type: 'integer' } },
    })
  }
  responses['504'] = errorResponse(`No answer within ${service.settings.traffic.timeout} s.`)
  op.responses = responses
  return op
}

function success(api: NormalizedApi, output: JsonSchema): Record<string, unknown> {
  // Whether a handler streams is only known when it returns, so a streaming format is listed as an
  // alternative to JSON rather than instead of it.
  const stream =
    api.stream === 'sse'
      ? {
          'text/event-stream': {
            schema: {
              type: 'string',
              description:
                'Server-sent events: each chunk is one event whose data is the chunk (JSON unless a string).',
            },
          },
        }
      : {
          'text/plain': {
            schema: { type: 'string', description: 'The chunks, as they are produced.' },
          },
        }
  return { 'application/json': { schema: output }, ...stream }
}

function queryParameters(input: JsonSchema): unknown[] {
  const properties = (input.properties ?? {}) as Record<string, JsonSchema>
  const required = new Set(Array.isArray(input.required) ? (input.required as string[]) : [])
  return Object.entries(properties).map(([name, schema]) => ({
    name,
    in: 'query',
    required: required.has(name),
    schema,
  }))
}
