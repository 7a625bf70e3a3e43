// A call as an HTTP/1.1 request with JSON: for a URL, a worker's port, a program's client, and a
// worker whose service has no local APIs (an app entry). Edge-safe.
import type { OutgoingCall } from '../runtime/types.ts'
import type { CallRequest } from './answer.ts'
import { STREAM_JSON_HEADER } from './chunks.ts'

/** The header carrying the caller's remaining milliseconds; the callee's timeout is capped by it. */
export const TIMEOUT_HEADER = 'bento-timeout'

/**
 * The HTTP request that carries `call`: a GET's input in the query, any other's as a JSON body.
 */
export function httpRequestOf(call: CallRequest): OutgoingCall {
  const { method, route } = call.api
  const headers: Record<string, string> = {
    accept: 'application/json, text/event-stream;q=0.9, */*;q=0.1',
    [STREAM_JSON_HEADER]: 'json',
    ...call.headers,
  }
  if (call.requestId !== undefined) headers['x-request-id'] = call.requestId
  if (call.traceparent !== undefined) headers.traceparent = call.traceparent
  if (call.timeoutMs !== undefined) headers[TIMEOUT_HEADER] = String(call.timeoutMs)
  let path = route
  let body: string | undefined
  if (method === 'GET') path += queryOf(call.input)
  else if (call.input !== undefined) {
    body = JSON.stringify(call.input)
    headers['content-type'] = 'application/json'
  }
  return { method, path, headers, body, signal: call.signal }
}

/**
 * A GET API's input as a query string: each field of an object (arrays repeat the key).
 * @example
 * queryOf({ q: 'tea', tag: ['a', 'b'] }) // '?q=tea&tag=a&tag=b'
 */
export function queryOf(input: unknown): string {
  if (input === undefined || input === null) return ''
  if (typeof input !== 'object') {
    throw new TypeError('the input of a GET API must be an object of query parameters')
  }
  const query = new URLSearchParams()
  for (const [key, value] of Object.entries(input as Record<string, unknown>)) {
    if (value === undefined) continue
    for (const item of Array.isArray(value) ? value : [value]) query.append(key, String(item))
  }
  const text = query.toString()
  return text === '' ? '' : `?${text}`
}
