// The framed transport between the workers of a graph on one machine: length-prefixed frames on
// the private Unix socket, many calls multiplexed on one connection. A frame is
//
//   u32 length (of what follows) | u8 kind | u32 call id | payload
//
// Caller to callee: HELLO (the graph's token, first and once), CALL (a JSON head, then the input's
// JSON or query), CANCEL, CREDIT (more chunks the caller will take). Callee to caller: ANSWER (a JSON
// head with the status, then the body), CHUNK (one chunk of a stream, JSON), END, FAIL (the JSON
// body of an error mid-stream). Payloads are JSON: nothing in a frame can run code.
import { Buffer } from 'node:buffer'

/** The kinds of frame. */
export const FRAME = {
  hello: 1,
  call: 2,
  cancel: 3,
  credit: 4,
  answer: 16,
  chunk: 17,
  end: 18,
  fail: 19,
} as const

/** The chunks a callee may send ahead of what its caller read, per stream. */
export const STREAM_WINDOW = 16

// A frame's length field counts the kind and the id too.
const HEAD = 9
/** The largest frame either side reads: past it the connection is broken off. */
export const MAX_FRAME = 2 ** 31 - 1
/** The largest HELLO (its token): anything else first (an HTTP request, say) ends the connection. */
export const MAX_HELLO = 5 + 1024

/** The JSON head of a CALL frame. */
export interface CallHead {
  api: string
  requestId?: string
  traceparent?: string
  timeoutMs?: number
  /** The caller's headers beyond the request id and the trace. */
  headers?: Record<string, string>
  /** A GET's input, as its query string. */
  query?: string
}

/** One frame as read off the wire; `payload` is a view into what arrived. */
export interface Frame {
  kind: number
  id: number
  payload: Buffer
}

/**
 * One frame's bytes: a payload of up to two parts, the first (a JSON head, say) prefixed with its
 * length when `split` is set.
 * @example
 * socket.write(encodeFrame(FRAME.cancel, 7, 'the caller left'))
 */
export function encodeFrame(
  kind: number,
  id: number,
  first: string | Uint8Array = '',
  second?: string | Uint8Array,
  split = false
): Buffer {
  const a = typeof first === 'string' ? Buffer.byteLength(first) : first.byteLength
  const b =
    second === undefined
      ? 0
      : typeof second === 'string'
        ? Buffer.byteLength(second)
        : second.byteLength
  const extra = split ? 4 : 0
  const frame = Buffer.allocUnsafe(HEAD + extra + a + b)
  frame.writeUInt32BE(5 + extra + a + b, 0)
  frame[4] = kind
  frame.writeUInt32BE(id, 5)
  let at = HEAD
  if (split) {
    frame.writeUInt32BE(a, at)
    at += 4
  }
  at += put(frame, first, at)
  if (second !== undefined) put(frame, second, at)
  return frame
}

function put(frame: Buffer, part: string | Uint8Array, at: number): number {
  if (typeof part === 'string') return frame.write(part, at)
  frame.set(part, at)
  return part.byteLength
}

/**
 * The two parts of a payload written with `split`: the head as text, the rest as bytes.
 */
export function splitPayload(payload: Buffer): { head: string; rest: Buffer } {
  const length = payload.readUInt32BE(0)
  if (length > payload.byteLength - 4) throw new Error('a frame whose head is longer than itself')
  return {
    head: payload.toString('utf8', 4, 4 + length),
    rest: payload.subarray(4 + length),
  }
}

/**
 * Cuts a byte stream into frames, whatever pieces it arrives in.
 * @example
 * const read = frameReader((frame) => handle(frame))
 * socket.on('data', read)
 */
export function frameReader(
  onFrame: (frame: Frame) => void,
  /** The largest frame taken now (a connection not yet trusted sends a small HELLO first). */
  largest: () => number = () => MAX_FRAME
): (data: Buffer) => void {
  // What arrived of a frame not yet whole, kept as the pieces it came in (joined once, when the
  // frame is complete: a large body arrives in thousands of pieces).
  let parts: Buffer[] = []
  let held = 0
  let needed = 0
  return (data) => {
    let buffer = data
    if (held > 0) {
      parts.push(data)
      held += data.byteLength
      if (held < needed) return
      buffer = Buffer.concat(parts, held)
      parts = []
      held = 0
    }
    let at = 0
    while (buffer.byteLength - at >= 4) {
      const length = buffer.readUInt32BE(at)
      if (length < 5 || length > largest()) throw new Error(`a frame of ${length} bytes`)
      if (buffer.byteLength - at - 4 < length) {
        needed = 4 + length
        break
      }
      onFrame({
        kind: buffer[at + 4]!,
        id: buffer.readUInt32BE(at + 5),
        payload: buffer.subarray(at + HEAD, at + 4 + length),
      })
      at += 4 + length
    }
    if (at < buffer.byteLength) {
      // A copy: a view would pin the whole chunk it came in.
      const rest = Buffer.from(buffer.subarray(at))
      if (rest.byteLength < 4) needed = 4
      parts = [rest]
      held = rest.byteLength
    }
  }
}
