// What a call gets back, whatever carried it: an HTTP response (a URL, a worker's port, a program's
// client), a framed answer (a worker of the graph on this machine), or a handler's outcome in this
// process. Classified once, when it arrives, and its body decoded once, when it is read. Edge-safe.
import { isStreamed } from '../media.ts'
import { jsonLines, serverEvents, textPieces } from './chunks.ts'

/** One call as the caller's side knows it, before any transport shapes it. */
export interface CallRequest {
  /** The API's name, route and method. */
  api: { name: string; route: string; method: string }
  input: unknown
  /** Extra headers (the client's, the call's, a dependency's own). */
  headers: Record<string, string>
  requestId?: string | undefined
  traceparent?: string | undefined
  /** Whole milliseconds the callee has; unset: no limit. */
  timeoutMs?: number | undefined
  /** Aborts the call: the caller left, its time ran out, or it stopped reading a stream. */
  signal: AbortSignal
}

/** A streamed answer that failed after it began: the body of its error (an SSE `error` event's). */
export class StreamFailed extends Error {
  constructor(readonly body: unknown) {
    super('the stream failed')
  }
}

/** The answer to one call. */
export interface Answer {
  readonly status: number
  /** Read piece by piece: it keeps its worker busy until it ends, and no total size applies. */
  readonly streamed: boolean
  /**
   * The whole body, decoded: JSON parsed, text as a string, anything else as bytes; a stream of
   * text joined, any other stream as the array of its chunks.
   */
  value(): Promise<unknown>
  /** The chunks as they come (one, for an answer that is not streamed); `StreamFailed` mid-way. */
  chunks(): AsyncIterable<unknown>
  /** Settles once the answer is read, failed or abandoned: its worker is free again. */
  readonly settled: Promise<void>
}

/**
 * A body of `type` decoded as a call returns it.
 * @example
 * decodeBody(new TextEncoder().encode('{"a":1}'), 'application/json') // { a: 1 }
 */
export function decodeBody(bytes: Uint8Array, type: string, status = 200): unknown {
  if (/json/i.test(type)) {
    return bytes.byteLength === 0 ? undefined : JSON.parse(utf8.decode(bytes))
  }
  if (/^text\//i.test(type)) return utf8.decode(bytes)
  if (status === 204) return undefined
  return bytes
}

const utf8 = new TextDecoder()
const NONE = Promise.resolve()

/**
 * An answer that is complete: `value()` decodes it (once asked), its one chunk is that value.
 * @example
 * const answer = completeAnswer(200, async () => ({ vector: [1, 2] }))
 */
export function completeAnswer(status: number, value: () => Promise<unknown>): Answer {
  return {
    status,
    streamed: false,
    settled: NONE,
    value,
    chunks: async function* () {
      yield await value()
    },
  }
}

/**
 * A streamed answer from its chunks: awaited whole, `text` pieces are joined and other chunks
 * gathered in an array.
 * @example
 * const answer = streamedAnswer(() => pieces(), 'text', settled)
 */
export function streamedAnswer(
  chunks: () => AsyncGenerator<unknown>,
  mode: 'text' | 'chunks',
  settled: Promise<void>
): Answer {
  return {
    status: 200,
    streamed: true,
    settled,
    chunks,
    async value() {
      const all: unknown[] = []
      for await (const chunk of chunks()) all.push(chunk)
      return mode === 'text' ? all.join('') : all
    },
  }
}

/**
 * An HTTP response as an answer; a body that is not streamed fails past `limit` bytes with what
 * `tooLarge()` makes (read as it arrives, or refused at once by its Content-Length).
 * @example
 * const answer = httpAnswer(await fetch(url), 64 * 2 ** 20, () => new Error('too large'))
 */
export function httpAnswer(
  response: Response,
  limit = Infinity,
  tooLarge: () => Error = () => new Error(`the answer is larger than ${limit} bytes`)
): Answer {
  const type = response.headers.get('content-type') ?? ''
  const streamed = response.body !== null && isStreamed(type)
  let settle = () => {}
  const settled = streamed
    ? new Promise<void>((resolve) => {
        settle = resolve
      })
    : NONE
  const bytes = async (): Promise<Uint8Array> => {
    if (limit === Infinity || response.body === null) {
      return new Uint8Array(await response.arrayBuffer())
    }
    if (Number(response.headers.get('content-length') ?? 0) > limit) {
      void response.body.cancel().catch(() => {})
      throw tooLarge()
    }
    return readAtMost(response.body, limit, tooLarge)
  }
  const pieces = async function* (): AsyncGenerator<unknown> {
    const body = response.body!
    try {
      if (/^text\/event-stream/i.test(type)) {
        for await (const { event, data } of serverEvents(body)) {
          const value = parseData(data)
          if (event === 'error') throw new StreamFailed(value)
          yield value
        }
      } else if (/^application\/x-ndjson/i.test(type)) yield* jsonLines(body)
      else yield* textPieces(body)
    } finally {
      settle()
    }
  }
  return {
    status: response.status,
    streamed,
    settled,
    async value() {
      if (streamed && !/^text\/plain/i.test(type)) {
        const all: unknown[] = []
        for await (const chunk of pieces()) all.push(chunk)
        return all
      }
      try {
        return decodeBody(await bytes(), type, response.status)
      } finally {
        settle()
      }
    },
    chunks() {
      if (streamed) return pieces()
      return (async function* () {
        yield decodeBody(await bytes(), type, response.status)
      })()
    },
  }
}

/**
 * A body's bytes, read as they arrive; past `limit` bytes the read stops (the rest is dropped, not
 * buffered) and what `tooLarge()` makes is thrown.
 * @example
 * const bytes = await readAtMost(request.body!, 10 * 2 ** 20, () => new Error('too large'))
 */
export async function readAtMost(
  body: ReadableStream<Uint8Array>,
  limit: number,
  tooLarge: () => Error
): Promise<Uint8Array<ArrayBuffer>> {
  const parts: Uint8Array<ArrayBuffer>[] = []
  let size = 0
  const reader = (body as ReadableStream<Uint8Array<ArrayBuffer>>).getReader()
  for (;;) {
    const { done, value } = await reader.read()
    if (done) break
    size += value.byteLength
    if (size > limit) {
      void reader.cancel().catch(() => {})
      throw tooLarge()
    }
    parts.push(value)
  }
  if (parts.length === 1) return parts[0]!
  const all = new Uint8Array(size)
  let at = 0
  for (const part of parts) {
    all.set(part, at)
    at += part.byteLength
  }
  return all
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}
