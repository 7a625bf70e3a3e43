// Reading a request: its id, and its body within the size limit. A declared Content-Length over the
// limit is refused before a byte is read; a body without one (chunked, HTTP/2) is counted as it
// streams in and refused as soon as it passes the limit, so a huge upload is never buffered.
// Whatever is wrong with a body is the client's doing and gets a 4xx: JSON that is malformed, not
// UTF-8, or nested deeper than `maxDepth` is a 400; a body the runtime could not read (cut short,
// a Content-Length it doesn't match) is a 400, or a 499 when the client has gone.
import { formatBytes, readAtMost } from '@bento/core/adapter'
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

/** What a request body may be: its size, its JSON nesting, its form fields. */
export interface InputLimits {
  /** Bytes; a larger body gets `413`. */
  bodyLimit: number
  /** Levels of JSON nesting; deeper gets `400`. */
  maxDepth: number
  /** Fields of a form (URL-encoded or multipart); more get `413`. */
  maxFormFields: number
  /** Whether a form body is taken at all (else `415`): known now, or once the schema is read. */
  readonly forms: boolean | Promise<boolean>
}

/**
 * The input of an API call: the query parameters of a `GET`, else the parsed body (`undefined`
 * when there is none). Throws a `ResponseError` for `400`, `413` and `415`; pass what awaiting it
 * throws through `inputError`, which turns malformed JSON into a `400`.
 * @example
 * const limits = { bodyLimit: 10 * 2 ** 20, maxDepth: 128, maxFormFields: 1000, forms: false }
 * const input = await readInput(c, 'POST', limits).catch((error) => { throw inputError(error) })
 */
export function readInput(
  c: Context,
  method: string,
  limits: InputLimits
): Promise<unknown> | unknown {
  const { bodyLimit: limit, maxDepth, maxFormFields } = limits
  if (method === 'GET') return queryInput(c.req.url)
  const raw = c.req.raw
  const headers = raw.headers
  const length = headers.get('content-length')
  // A request off the wire says whether it has a body by its framing headers; one made in-process
  // (`new Request(url, { body })`) has neither, and only then is `body` asked: on Node, reading it
  // makes @hono/node-server build a whole web Request with a stream, where `arrayBuffer()` below
  // reads the socket directly (3x the requests per second of a worker, measured).
  if (length === null && !headers.has('transfer-encoding') && raw.body === null) return undefined
  if (length !== null && Number(length) > limit) {
    // Cancelled, not left unread: a server may otherwise keep the connection open for a body
    // that never comes (Deno does, whatever the response's Connection header says).
    raw.body?.cancel().catch(() => {})
    throw tooLarge(limit)
  }
  const contentType = headers.get('content-type')
  const kind = contentType === null ? undefined : bodyKind(contentType)
  if (kind === 'unsupported') {
    if (length === '0') return undefined
    throw unsupported(contentType!)
  }
  // The runtime frames a body by its Content-Length, so a declared size is the real size.
  const framed = length !== null && !headers.has('transfer-encoding')
  if (framed && length === '0' && kind !== undefined) return undefined
  if (kind === 'form') {
    // Decided before a byte is read: a form is what any web page can post across sites.
    return Promise.resolve(limits.forms).then((taken) => {
      if (!taken) {
        raw.body?.cancel().catch(() => {})
        throw notForms(contentType!)
      }
      const bytes = framed ? c.req.arrayBuffer() : readCounted(raw, limit)
      return bytes.then((body) =>
        body.byteLength === 0 ? undefined : parseForm(body, contentType!, maxFormFields)
      )
    })
  }
  // Its read errors are turned into 4xx by `inputError`, where it is awaited: a `.catch` here
  // would cost a promise on every request.
  if (framed && kind !== undefined) {
    const received = receivedBody(c, length)
    if (received !== undefined) return parseJson(received, maxDepth)
    return c.req.arrayBuffer().then((bytes) => parseJson(bytes, maxDepth))
  }
  return readCounted(raw, limit).then((bytes) => {
    if (bytes.byteLength === 0) return undefined
    if (kind === undefined) throw unsupported('no Content-Type')
    return parseJson(bytes, maxDepth)
  })
}

// The shape of Node's IncomingMessage this reads (@hono/node-server hands it to the app as
// `c.env.incoming`).
interface NodeIncoming {
  /** Set once the parser reached the message's end (after the body's bytes are pushed). */
  complete: boolean
  readableDidRead: boolean
  readableLength: number
  readableEncoding: string | null
  read(): Uint8Array | null
  resume(): unknown
}

function nodeIncoming(c: Context): NodeIncoming | undefined {
  return (c.env as { incoming?: NodeIncoming } | undefined)?.incoming
}

/**
 * True for a request that @hono/node-server carried: its Response class writes an answer's plain
 * init headers as they are, the cheapest way there to add headers to an answer.
 * @example
 * if (fromNodeServer(c)) return new Response(text, { headers: { 'content-type': type, 'x-id': id } })
 */
export function fromNodeServer(c: Context): boolean {
  return nodeIncoming(c) !== undefined
}

/**
 * True while Node's parser is still inside the packet that brought this request's headers (it
 * calls the app before it parses the body there): after one microtask, a body in that packet
 * has arrived and `readInput` takes it at once.
 * @example
 * if (bodyInPacket(c)) await undefined
 */
export function bodyInPacket(c: Context): boolean {
  return nodeIncoming(c)?.complete === false
}

// On Node, a body whose every declared byte is in the request's stream before the handler
// reads it (a small one comes in the packet with the headers) is read from the stream at once:
// no promise, no copy into an ArrayBuffer, no body timer, where `arrayBuffer()` costs all three.
// Anything else (a body still arriving, one a middleware read, Bun, Deno, a Request made
// in-process) takes the general path.
function receivedBody(c: Context, length: string): Uint8Array | undefined {
  const incoming = nodeIncoming(c)
  if (
    incoming === undefined ||
    incoming.readableDidRead ||
    incoming.readableEncoding !== null ||
    incoming.readableLength !== Number(length) ||
    typeof incoming.read !== 'function' ||
    typeof incoming.resume !== 'function'
  ) {
    return undefined
  }
  const body = incoming.read()
  // Flowing from here, the stream ends by itself when the parser reaches the message's end:
  // @hono/node-server would otherwise drain it after the answer, with listeners and a timer.
  incoming.resume()
  return body ?? undefined
}

/**
 * What bento refuses in any request before it reads the body, whatever the runtime's own parser
 * let through (the Headers of a fetch request join repeated fields with a comma, which no host
 * name, port or length contains): more than one `Host` (RFC 9112 §3.2 requires a 400); more than
 * one `Content-Length`, even equal ones (Bun and Deno pass `2, 2` on, which no limit can read as
 * a size); `Content-Length` beside `Transfer-Encoding` (RFC 9112 §6.3: a request smuggling
 * vector). `undefined` when the request is fine.
 * @example
 * const refused = refusedRequest(c.req.raw.headers)
 */
export function refusedRequest(headers: Headers): ResponseError | undefined {
  if (headers.get('host')?.includes(',')) {
    return malformed('the request has more than one Host header; send exactly one')
  }
  const length = headers.get('content-length')
  if (length === null) return undefined
  if (length.includes(',')) {
    return malformed('the request has more than one Content-Length header; send exactly one')
  }
  if (headers.has('transfer-encoding')) {
    return malformed('the request has both Content-Length and Transfer-Encoding; send one of them')
  }
  return undefined
}

// A request whose framing can't be trusted: the connection can't carry another one after it.
function malformed(message: string): ResponseError {
  return new ResponseError(400, message, undefined, { connection: 'close' })
}

const strictUtf8 = new TextDecoder('utf-8', { fatal: true })

// A body as text: a byte that is not UTF-8 is the client's error (400), never a silent U+FFFD.
function utf8Body(bytes: ArrayBuffer | Uint8Array, what: string): string {
  try {
    return strictUtf8.decode(bytes)
  } catch {
    throw invalidInput(
      [{ path: '', message: 'the body is not valid UTF-8' }],
      `invalid ${what}: not UTF-8`
    )
  }
}

/**
 * Parses a JSON body: UTF-8 as RFC 8259 requires (a byte that is not gets a 400, never a silent
 * U+FFFD), nested at most `maxDepth` deep. Empty is `undefined`.
 * @example
 * parseJson(new TextEncoder().encode('{"a":1}'), 128) // { a: 1 }
 */
export function parseJson(bytes: ArrayBuffer | Uint8Array, maxDepth: number): unknown {
  const text = utf8Body(bytes, 'JSON')
  if (text === '') return undefined
  // Two characters per level at least: a shorter body can't be too deep, and skips the scan.
  if (text.length > 2 * maxDepth && tooDeep(text, maxDepth)) {
    throw invalidInput(
      [{ path: '', message: `nested more than ${maxDepth} levels deep` }],
      'invalid JSON: nested too deeply'
    )
  }
  try {
    return JSON.parse(text)
  } catch (error) {
    throw invalidInput([{ path: '', message: messageOf(error) }], 'invalid JSON')
  }
}

// Counts brackets outside strings; stops as soon as the limit is passed.
function tooDeep(text: string, limit: number): boolean {
  let depth = 0
  let inString = false
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i)
    if (inString) {
      if (ch === 92)
        i++ // a backslash escapes the next character
      else if (ch === 34) inString = false
    } else if (ch === 34) inString = true
    else if (ch === 91 || ch === 123) {
      if (++depth > limit) return true
    } else if (ch === 93 || ch === 125) depth--
  }
  return false
}

// A form body: URL-encoded fields decoded as strictly as a query string; a multipart body only
// when it ends with its closing delimiter (Deno's parser takes a body cut short as an empty form,
// Node's and Bun's refuse it: checked here so that all three answer 400). Its fields are counted
// before any is decoded: 2.5 million fields fit in 10 MB and took a worker's thread 3 s to parse.
function parseForm(
  body: ArrayBuffer | Uint8Array,
  contentType: string,
  maxFields: number
): Promise<unknown> | unknown {
  if (!contentType.toLowerCase().startsWith('multipart/')) {
    const text = utf8Body(body, 'form data')
    if (occurrences(text, '&') >= maxFields) tooManyFields(text.split('&'), maxFields)
    return urlEncoded(text, 'form data')
  }
  const boundary = /;\s*boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType)
  const delimiter = boundary && `--${boundary[1] ?? boundary[2]}`
  const text = delimiter ? latin1.decode(body) : ''
  // Each part opens with the delimiter at the start of a line, and the closing one is one more.
  if (delimiter) {
    const delimiters = occurrences(text, `\r\n${delimiter}`) + (text.startsWith(delimiter) ? 1 : 0)
    if (delimiters - 1 > maxFields) throw fieldsError(maxFields)
  }
  const end = delimiter && `${delimiter}--`
  if (end && !text.includes(end)) {
    throw invalidInput(
      [{ path: '', message: `the multipart body does not end with its closing delimiter ${end}` }],
      'invalid form data: cut short'
    )
  }
  return new Response(body as BodyInit, { headers: { 'content-type': contentType } })
    .formData()
    .then(formInput, (error: unknown) => {
      throw invalidInput([{ path: '', message: messageOf(error) }], 'invalid form data')
    })
}

// Every byte to one character: a search for the ASCII delimiter in any body, valid UTF-8 or not.
const latin1 = new TextDecoder('latin1')

function occurrences(text: string, needle: string): number {
  let count = 0
  for (let at = text.indexOf(needle); at !== -1; at = text.indexOf(needle, at + needle.length)) {
    count++
  }
  return count
}

// URL-encoded: `a=1&&b=2` has empty pairs, which are no fields; only a count past the limit of
// the non-empty ones is refused.
function tooManyFields(pairs: string[], maxFields: number): void {
  let fields = 0
  for (const pair of pairs) if (pair !== '' && ++fields > maxFields) throw fieldsError(maxFields)
}

function fieldsError(maxFields: number): ResponseError {
  return new ResponseError(
    413,
    `the form has more than ${maxFields} fields, the service's http.maxFormFields`
  )
}

// Stops reading past the limit: cancelling tells the runtime to drop the rest instead of
// buffering it.
function readCounted(request: Request, limit: number): Promise<Uint8Array<ArrayBuffer>> {
  if (request.body === null) return Promise.resolve(new Uint8Array(0))
  return readAtMost(request.body, limit, () => tooLarge(limit))
}

/**
 * What to throw for an error from awaiting `readInput`, for `request`: the adapter's own 4xx as it
 * is (408, 413, 415, 400 for malformed JSON or forms); a 499 when the client has gone (the body was cut
 * off with the connection); a 400 for any other body the runtime could not read (cut short, a
 * Content-Length it does not match, broken chunked encoding). Never a 5xx: the body is the
 * client's.
 * @example
 * try { input = await readInput(c, 'POST', limit) } catch (error) { throw inputError(error, c.req.raw) }
 */
export function inputError(
  error: unknown,
  request: { readonly signal: AbortSignal }
): ResponseError {
  if (error instanceof ResponseError && [408, 413, 415].includes(error.status)) return error
  if (request.signal.aborted) return clientClosed()
  if (error instanceof ResponseError) return error
  if (error instanceof SyntaxError) {
    return invalidInput([{ path: '', message: error.message }], 'invalid JSON')
  }
  return new ResponseError(400, `the request body could not be read: ${messageOf(error)}`)
}

/**
 * The 499 for a request whose client went away before its answer (nginx's "client closed
 * request"): counted in /metrics as such, and never sent, since nobody is there to read it.
 * @example
 * if (request.signal.aborted) throw clientClosed()
 */
export function clientClosed(): ResponseError {
  return new ResponseError(499, 'the client closed the connection before the answer')
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

function queryInput(url: string): Record<string, string | string[]> {
  const start = url.indexOf('?')
  if (start === -1) return {}
  const hash = url.indexOf('#', start)
  return urlEncoded(url.slice(start + 1, hash === -1 ? undefined : hash), 'query string')
}

/**
 * Decodes `a=1&b=x%20y&a=2` (a query string, or a URL-encoded form) into fields, repeated names
 * as arrays. A `%` escape that is malformed or decodes to bytes that are not UTF-8 is the
 * client's error, a 400, never a silent U+FFFD or the raw text.
 * @example
 * urlEncoded('q=ramen&tag=a&tag=b', 'query string') // { q: 'ramen', tag: ['a', 'b'] }
 */
export function urlEncoded(text: string, what: string): Record<string, string | string[]> {
  const fields = new Map<string, string | string[]>()
  if (text === '') return {}
  for (const pair of text.split('&')) {
    if (pair === '') continue
    const eq = pair.indexOf('=')
    const key = decodeField(eq === -1 ? pair : pair.slice(0, eq), what)
    const value = eq === -1 ? '' : decodeField(pair.slice(eq + 1), what)
    const seen = fields.get(key)
    if (seen === undefined) fields.set(key, value)
    else if (Array.isArray(seen)) seen.push(value)
    else fields.set(key, [seen, value])
  }
  return Object.fromEntries(fields)
}

function decodeField(text: string, what: string): string {
  const plain = text.includes('+') ? text.replace(/\+/g, ' ') : text
  if (!plain.includes('%')) return plain
  try {
    return decodeURIComponent(plain)
  } catch {
    throw invalidInput(
      [{ path: '', message: `${JSON.stringify(text)} is not valid percent-encoded UTF-8` }],
      `invalid ${what}: not valid percent-encoded UTF-8`
    )
  }
}

/**
 * The 413 for a body over `limit`. It is refused unread, so the connection can't carry another
 * request: it says so, or a server that keeps it open (Deno does) would wait for a body the client
 * will never send.
 * @example
 * throw tooLarge(10 * 2 ** 20)
 */
export function tooLarge(limit: number): ResponseError {
  return new ResponseError(
    413,
    `request body is larger than the limit of ${formatBytes(limit)}`,
    undefined,
    { connection: 'close' }
  )
}

function notForms(contentType: string): ResponseError {
  const type = contentType.split(';')[0]!.trim()
  return new ResponseError(
    415,
    `this API takes JSON, not ${type}: send application/json (an API takes forms when its input has a file, or with forms: true)`
  )
}

function unsupported(contentType: string): ResponseError {
  return new ResponseError(415, `unsupported content type (${contentType}): send application/json`)
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error)
}
