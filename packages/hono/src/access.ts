// The access log's side of the adapter: an access line per request (bytes, ids and the trace id
// included), for requests an API answered and for those none took (404, 405).
import { accessLog } from '@bento/core/adapter'
import type { Context } from 'hono'

/**
 * `response`, after logging it (a request no API took: a 404 or 405).
 * @example
 * return logged(c, c.req.path, jsonResponse(c, body, 404), requestId)
 */
export function logged(c: Context, route: string, response: Response, requestId: string): Response {
  accessLog()?.add({
    method: c.req.method,
    route,
    status: response.status,
    durationMs: 0,
    bytes: Number(response.headers.get('content-length') ?? Number.NaN) || undefined,
    requestId,
    traceId: traceIdOf(c.req.raw),
  })
  return response
}

/**
 * The trace id an access line shows when bento itself is not tracing: the caller's, if it sent one.
 * @example
 * traceIdOf(new Request(url, { headers: { traceparent } }))
 */
export function traceIdOf(request: Pick<Request, 'headers'>): string | undefined {
  const header = request.headers.get('traceparent')
  if (header === null) return undefined
  const id = /^[0-9a-f]{2}-([0-9a-f]{32})-/.exec(header.trim().toLowerCase())?.[1]
  // An all-zero id is invalid: no trace.
  return id === undefined || /^0+$/.test(id) ? undefined : id
}

/**
 * The UTF-8 size of `text` in bytes, without encoding it.
 * @example
 * utf8Length('héllo') // 6
 */
export function utf8Length(text: string): number {
  let bytes = text.length
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i)
    if (code < 0x80) continue
    if (code < 0x800) bytes += 1
    else if (code >= 0xd800 && code <= 0xdbff) {
      // A surrogate pair: two units, four bytes.
      bytes += 2
      i++
    } else bytes += 2
  }
  return bytes
}
