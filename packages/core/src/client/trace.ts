// W3C Trace Context (https://www.w3.org/TR/trace-context/): each call to another service carries a
// `traceparent` with the request's trace id (the incoming one, or a new one) and a span id of its
// own, so a tracer on either side joins them into one trace.

/** A request's trace: its 32-hex-digit id and its flags. */
export interface Trace {
  id: string
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
 * The trace of a request: from its valid `traceparent` header, else a new one (sampled).
 * @example
 * traceOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01').id // '4bf9…4736'
 */
export function traceOf(traceparent: string | null | undefined): Trace {
  const match = TRACEPARENT.exec(traceparent?.trim().toLowerCase() ?? '')
  // Version ff is invalid, as are all-zero ids; the standard says to start a new trace then.
  if (match && match[1] !== 'ff' && !/^0+$/.test(match[2]!) && !/^0+$/.test(match[3]!)) {
    return { id: match[2]!, flags: match[4]! }
  }
  return { id: hex(16), flags: '01' }
}

/**
 * A `traceparent` for one outgoing call of `trace`, with a fresh span id.
 * @example
 * headers.traceparent = childTraceparent(traceOf(request.headers.get('traceparent')))
 */
export function childTraceparent(trace: Trace): string {
  return `00-${trace.id}-${hex(8)}-${trace.flags}`
}
