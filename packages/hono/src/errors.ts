// Every error response is JSON with the same shape, so clients parse one format whatever failed:
// `{ error, requestId }`, plus `issues` for validation errors and whatever an `HttpError` adds.
import { type CallError, HttpError, isCallError } from '@bento/core'
import type { SchemaIssue, StandardSchemaV1 } from '@bento/core/adapter'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'

/**
 * The JSON body of every error response.
 * @example
 * const body: ErrorBody = { error: 'invalid input', issues: [{ path: 'name', message: 'Required' }], requestId: 'a1-2' }
 */
export interface ErrorBody {
  /** What went wrong, for people. */
  error: string
  /** The request's id, also in the `x-request-id` header. */
  requestId: string
  /** Validation problems (on `400`, and on `500` for an invalid output in development). */
  issues?: SchemaIssue[]
  [key: string]: unknown
}

/**
 * An error the adapter raises itself (a body over the limit, a full queue, a timeout, ...): an
 * `HttpError` that may also set response headers such as `Allow` or `Retry-After`.
 * @example
 * throw new ResponseError(503, 'too many requests are waiting', {}, { 'retry-after': '1' })
 */
export class ResponseError extends HttpError {
  readonly headers: Record<string, string> | undefined

  constructor(
    status: number,
    message: string,
    details?: Record<string, unknown>,
    headers?: Record<string, string>
  ) {
    super(status, message, details)
    this.headers = headers
  }
}

/**
 * Standard Schema issues as `{ path, message }`, the path dotted (`items.0.name`), exactly as
 * @bento/core's `validate` reports them. The adapter calls a schema's `validate` itself, to skip an
 * `await` when the schema answers synchronously.
 * @example
 * flattenIssues([{ message: 'Required', path: ['items', 0, { key: 'name' }] }])
 * // [{ path: 'items.0.name', message: 'Required' }]
 */
export function flattenIssues(issues: ReadonlyArray<StandardSchemaV1.Issue>): SchemaIssue[] {
  return issues.map((issue) => ({
    path: (issue.path ?? [])
      .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
      .join('.'),
    message: issue.message,
  }))
}

/**
 * A `400` listing each validation issue.
 * @example
 * throw invalidInput([{ path: 'name', message: 'Required' }])
 */
export function invalidInput(issues: SchemaIssue[], message = 'invalid input'): ResponseError {
  return new ResponseError(400, message, { issues })
}

interface StatusError {
  status: number
  message: string
  details?: Record<string, unknown>
  headers?: Record<string, string>
  retryAfter?: number
}

// Duck-typed rather than `instanceof`: the user's handler may throw the HttpError of another copy
// of @bento/core, or Hono's HTTPException from its own middleware.
function statusOf(error: unknown): StatusError | undefined {
  if (typeof error !== 'object' || error === null) return undefined
  const { name, status } = error as { name?: unknown; status?: unknown }
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 400 || status > 599) {
    // The batcher refuses a request it can't answer in time; that is load shedding, not a bug.
    if (name === 'BatchShedError') {
      // Spelled out: an Error's message is not an enumerable property, so a spread would drop it.
      const { message, retryAfter } = error as StatusError
      return { status: 503, message, retryAfter }
    }
    return undefined
  }
  if (error instanceof HttpError || error instanceof HTTPException || name === 'HttpError') {
    return error as StatusError
  }
  return undefined
}

/** How the adapter reports errors: development mode, the API's name, and the logger. */
export interface ErrorHandling {
  dev: boolean
  api: string
  onError: (error: unknown, info: { requestId: string; api: string }) => void
}

/**
 * The status, JSON body and headers for anything a handler or the adapter threw: its own status
 * for an `HttpError` (or Hono's `HTTPException`), else `500` (logged) with details only in
 * development.
 * @example
 * const { status, body } = describeError(error, requestId, { dev: false, api: 'predict', onError })
 */
export function describeError(
  error: unknown,
  requestId: string,
  how: ErrorHandling
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  if (isCallError(error)) return dependencyFailure(error, requestId, how)
  const known = statusOf(error)
  if (known) {
    const headers: Record<string, string> = { ...known.headers, 'x-request-id': requestId }
    if (known.retryAfter !== undefined) headers['retry-after'] = String(Math.ceil(known.retryAfter))
    const error = known.message || 'error'
    // `error` leads and `requestId` closes, whatever the details carry.
    const body: ErrorBody = { error, ...known.details, requestId }
    body.error = error
    return { status: known.status, body, headers }
  }
  how.onError(error, { requestId, api: how.api })
  const body: ErrorBody = { error: 'internal server error', requestId }
  if (how.dev) {
    body.message = error instanceof Error ? error.message : String(error)
    if (error instanceof Error && error.stack) body.stack = error.stack
  }
  return { status: 500, body, headers: { 'x-request-id': requestId } }
}

// A call to another service failed and the handler let it through: this service can't answer for
// now (503), or, when the call ran out of the request's own time, it timed out (504). The public
// answer says what: the dependency, its status, the request id. How (the callee's body, which may
// hold a stack trace or a database host, and the transport error, which names internal sockets)
// goes to the log through `onError`, and into the answer only in development.
function dependencyFailure(
  error: CallError,
  requestId: string,
  how: ErrorHandling
): { status: number; body: ErrorBody; headers: Record<string, string> } {
  how.onError(error, { requestId, api: how.api })
  const what =
    error.status === 504
      ? 'did not answer in time'
      : error.body === undefined
        ? 'did not answer'
        : `answered ${error.status}`
  const dependency: Record<string, unknown> = {
    service: error.service,
    api: error.api,
    status: error.status,
  }
  if (how.dev && error.body !== undefined) dependency.body = error.body
  const body: ErrorBody = {
    error: `the dependency "${error.service}" ${what}`,
    dependency,
    ...(how.dev && { message: error.message }),
    requestId,
  }
  return {
    status: error.status === 504 ? 504 : 503,
    body,
    headers: { 'x-request-id': requestId },
  }
}

/**
 * The JSON response for anything a handler or the adapter threw (see `describeError`).
 * @example
 * return errorResponse(c, error, requestId, { dev: false, api: 'predict', onError: console.error })
 */
export function errorResponse(
  c: Context,
  error: unknown,
  requestId: string,
  how: ErrorHandling
): Response {
  const { status, body, headers } = describeError(error, requestId, how)
  return jsonResponse(c, body, status, headers)
}

/**
 * A JSON response that keeps the headers middleware set before it.
 * @example
 * return jsonResponse(c, { error: 'not found', requestId }, 404, { 'x-request-id': requestId })
 */
export function jsonResponse(
  c: Context,
  body: unknown,
  status: number,
  headers: Record<string, string>
): Response {
  // Hono types the status as a union of known codes; ours come from HttpError, checked to 400-599.
  return c.json(body as object, status as 200, headers)
}
