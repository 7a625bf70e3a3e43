// W3C Trace Context (https://www.w3.org/TR/trace-context/): each call to another service carries a
// `traceparent` with the request's trace id (the incoming one, or a new one) and a span id of its
// own, so a tracer on either side joins them into one trace.

/** A request's trace: its 32-hex-digit id and its flags. */
export interface Trace {
  id: string
  flags: string
}

/** A valid `traceparent`'s fields. */
export interface Traceparent {
  traceId: string
  spanId: string
  /** Two hex digits; bit 0 is "sampled". */
  flags: string
}

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?$/

function hex(bytes: number): string {
  const buffer = crypto.getRandomValues(new Uint8Array(bytes))
  let out = ''
  for (const byte of buffer) out += byte.toString(16).padStart(2, '0')
  return out
}

/**
 * A `traceparent` header's fields by W3C Trace Context's rules (the one parser bento has), or
 * `undefined` when it is not valid: not lowercase hex, version ff, version 00 with more fields,
 * or an all-zero id. A later version may carry more fields, which are ignored.
 * @example
 * parseTraceparent('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01')?.flags // '01'
 */
export function parseTraceparent(header: string | null | undefined): Traceparent | undefined {
  const match = TRACEPARENT.exec(header?.trim() ?? '')
  if (match === null) return undefined
  const [, version, traceId, spanId, flags, more] = match as unknown as string[]
  if (version === 'ff' || (version === '00' && more !== undefined)) return undefined
  if (/^0+$/.test(traceId!) || /^0+$/.test(spanId!)) return undefined
  return { traceId: traceId!, spanId: spanId!, flags: flags! }
}

/**
 * The trace of a request: from its valid `traceparent` header, else a new one (sampled).
 * @example
 * traceOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01').id // '4bf9…4736'
 */
export function traceOf(traceparent: string | null | undefined): Trace {
  const parsed = parseTraceparent(traceparent)
  // The standard says to start a new trace when the header is not valid.
  return parsed ? { id: parsed.traceId, flags: parsed.flags } : { id: hex(16), flags: '01' }
}

/**
 * A `traceparent` for one outgoing call of `trace`, with a fresh span id.
 * @example
 * headers.traceparent = childTraceparent(traceOf(request.headers.get('traceparent')))
 */
export function childTraceparent(trace: Trace): string {
  return `00-${trace.id}-${hex(8)}-${trace.flags}`
}
