// Reading a request: its id, and its body within the size limit. A declared Content-Length over the
// limit is refused before a byte is read; a body without one (chunked, HTTP/2) is counted as it
// streams in and refused as soon as it passes the limit, so a huge upload is never buffered.
import { formatBytes } from '@bento/core'
import type { Context } from 'hono'
import { invalidInput, ResponseError } from './errors.ts'

// The same rule as hono/request-id: word characters, `-` and `=`, at most 255 of them.
const SANE_ID = /^[\w\-=]{1,255}$/

let prefix: string | undefined
let counter = 0

/**
 * A new request id: this worker's random prefix and a counter (`1b9d6bcd4f1c4ad2-2s`). Unique
 * across workers and restarts, and a fraction of the cost of a UUID per request. Ids correlate
 * logs; they are not secrets.
 * @example
 * newRequestId() // '1b9d6bcd4f1c4ad2-1'
 */
export function newRequestId(): string {
  // Made on first use: edge runtimes refuse random numbers at module load.
  prefix ??= crypto.randomUUID().replace(/-/g, '').slice(0, 16)
  counter += 1
  return `${prefix}-${counter.toString(36)}`
}

/**
 * The request's id: one set by `hono/request-id` earlier in the chain, else a sane incoming
 * `x-request-id` header, else a new one.
 * @example
 * const id = requestIdOf(c)
 */
export function requestIdOf(c: Context): string {
  const set = c.get('requestId' as never) as unknown
  if (typeof set === 'string') return set
  const incoming = c.req.raw.headers.get('x-request-id')
  if (incoming !== null && SANE_ID.test(incoming)) return incoming
  return newRequestId()
}

/** How a body is parsed, from its media type. */
export type BodyKind = 'json' | 'form' | 'unsupported'

/**
 * Classifies a Content-Type header: JSON (`application/json`, `application/*+json`), a form
 * (`multipart/form-data`, `application/x-www-form-urlencoded`), or anything else.
 * @example
 * bodyKind('application/json; charset=utf-8') // 'json'
 */
export function bodyKind(contentType: string): BodyKind {
  const end = contentType.indexOf(';')
  const type = (end === -1 ? contentType : contentType.slice(0, end)).trim().toLowerCase()
  if (type === 'application/json' || (type.startsWith('application/') && type.endsWith('+json'))) {
    return 'json'
  }
  if (type === 'multipart/form-data' || type === 'application/x-www-form-urlencoded') return 'form'
  return 'unsupported'
}

/**
 * The input of an API call: the query parameters of a `GET`, else the parsed body (`undefined`
 * when there is none). Throws a `ResponseError` for `400`, `413` and `415`; pass what awaiting it
 * throws through `inputError`, which turns malformed JSON into a `400`.
 * @example
 * const input = await readInput(c, 'POST', 10 * 2 ** 20).catch((error) => { throw inputError(error) })
 */
export function readInput(c: Context, method: string, limit: number): Promise<unknown> | unknown {
  if (method === 'GET') return queryInput(c)
  const raw = c.req.raw
  if (raw.body === null) return undefined
  const headers = raw.headers
  const length = headers.get('content-length')
  if (length !== null && Number(length) > limit) throw tooLarge(limit)
  const contentType = headers.get('content-type')
  const kind = contentType === null ? undefined : bodyKind(contentType)
  if (kind === 'unsupported') {
    if (length === '0') return undefined
    throw unsupported(contentType!)
  }
  // The runtime frames a body by its Content-Length, so a declared size is the real size.
  if (length !== null && !headers.has('transfer-encoding') && kind !== undefined) {
    if (length === '0') return undefined
    // Its syntax errors are turned into 400s by `inputError`, where it is awaited: a `.catch` here
    // would cost a promise on every request.
    return kind === 'json' ? c.req.json() : parseForm(c.req.formData())
  }
  return readCounted(raw, limit).then((bytes) => {
    if (bytes.byteLength === 0) return undefined
    if (kind === undefined) throw unsupported('no Content-Type')
    if (kind === 'json') return parseJson(new TextDecoder().decode(bytes))
    return parseForm(new Response(bytes, { headers: { 'content-type': contentType! } }).formData())
  })
}

function parseForm(form: Promise<FormData>): Promise<Record<string, unknown>> {
  return form.then(formInput, (error: unknown) => {
    throw invalidInput([{ path: '', message: messageOf(error) }], 'invalid form data')
  })
}

async function readCounted(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  const reader = request.body!.getReader()
  const chunks: Uint8Array<ArrayBuffer>[] = []
  let size = 0
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      // Stop reading: cancelling tells the runtime to drop the rest instead of buffering it.
      reader.cancel().catch(() => {})
      throw tooLarge(limit)
    }
    chunks.push(value)
  }
  if (chunks.length === 1) return chunks[0]!
  const bytes = new Uint8Array(size)
  let offset = 0
  for (const chunk of chunks) {
    bytes.set(chunk, offset)
    offset += chunk.byteLength
  }
  return bytes
}

function parseJson(text: string): unknown {
  if (text === '') return undefined
  try {
    return JSON.parse(text)
  } catch (error) {
    return invalidJson(error)
  }
}

function invalidJson(error: unknown): never {
  throw inputError(error)
}

/**
 * What to throw for an error from awaiting `readInput`: a `400` for malformed JSON, the error
 * itself otherwise (a body stream that failed is not the client's JSON's fault).
 * @example
 * try { input = await readInput(c, 'POST', limit) } catch (error) { throw inputError(error) }
 */
export function inputError(error: unknown): unknown {
  if (!(error instanceof SyntaxError)) return error
  return invalidInput([{ path: '', message: error.message }], 'invalid JSON')
}

// Repeated names become arrays; files stay `File`s. `Object.fromEntries` defines own properties,
// so a field named `__proto__` can't reach the prototype.
function formInput(form: FormData): Record<string, unknown> {
  const fields = new Map<string, FormDataEntryValue | FormDataEntryValue[]>()
  for (const [key, value] of form) {
    const seen = fields.get(key)
    if (seen === undefined) fields.set(key, value)
    else if (Array.isArray(seen)) seen.push(value)
    else fields.set(key, [seen, value])
  }
  return Object.fromEntries(fields)
}

function queryInput(c: Context): Record<string, string | string[]> {
  const out: Array<[string, string | string[]]> = []
  for (const [key, values] of Object.entries(c.req.queries())) {
    out.push([key, values.length === 1 ? values[0]! : values])
  }
  return Object.fromEntries(out)
}

function tooLarge(limit: number): ResponseError {
  return new ResponseError(413, `request body is larger than the limit of ${formatBytes(limit)}`)
}

function unsupported(contentType: string): ResponseError {
  return new ResponseError(
    415,
    `unsupported content type (${contentType}): send application/json or multipart/form-data`
  )
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
