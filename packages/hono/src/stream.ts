// Streaming responses from a handler's async iterable. The body is a pull-based ReadableStream with
// no read-ahead, so the handler produces a chunk only when the client is ready for it, and a client
// that goes away cancels the stream: the handler's signal aborts and the iterator is closed (its
// `finally` runs) before the request counts as finished.

import type { ChunkSource, ChunkStep } from '@bento/core/adapter'

const encoder = new TextEncoder()
const SSE_MESSAGE = Symbol.for('bento.sse')

/**
 * One server-sent event with an event name, id or reconnection delay.
 * @example
 * const message: SseMessage = { event: 'token', id: '1', data: { text: 'Hi' } }
 */
export interface SseMessage {
  /** A string is sent as is (split over several `data:` lines); anything else as JSON. */
  data: unknown
  event?: string
  id?: string
  /** Milliseconds the client should wait before reconnecting. */
  retry?: number
}

/**
 * Marks a streamed chunk as a full server-sent event, to set its `event`, `id` or `retry`.
 * @example
 * async function* handler() {
 *   yield sse({ event: 'token', id: '1', data: { text: 'Hel' } })
 * }
 */
export function sse(message: SseMessage): SseMessage {
  return Object.assign({ [SSE_MESSAGE]: true }, message)
}

/**
 * True for an async iterable (an async generator, a ReadableStream, ...).
 * @example
 * isAsyncIterable((async function* () {})()) // true
 */
export function isAsyncIterable(value: unknown): value is AsyncIterable<unknown> {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { [Symbol.asyncIterator]?: unknown })[Symbol.asyncIterator] === 'function'
  )
}

/**
 * One server-sent event in wire format: `event:`, one `data:` line per line of the data, `id:`,
 * `retry:`, and the blank line that ends it. Objects are sent as JSON; strings as they are, or as
 * JSON too with `json` (what a bento client asks for, to tell "42" from 42).
 * @example
 * sseFrame({ a: 1 }) // 'data: {"a":1}\n\n'
 * sseFrame('two\nlines') // 'data: two\ndata: lines\n\n'
 */
export function sseFrame(chunk: unknown, json = false): string {
  const message: SseMessage = isSseMessage(chunk) ? chunk : { data: chunk }
  const data =
    typeof message.data === 'string' && !json ? message.data : JSON.stringify(message.data)
  let frame = ''
  if (message.event !== undefined) frame += `event: ${singleLine('event', message.event)}\n`
  frame += `data: ${(data ?? 'null').split(/\r\n|\r|\n/).join('\ndata: ')}\n`
  if (message.id !== undefined) frame += `id: ${singleLine('id', message.id)}\n`
  if (message.retry !== undefined) frame += `retry: ${Math.max(0, Math.floor(message.retry))}\n`
  return `${frame}\n`
}

function isSseMessage(chunk: unknown): chunk is SseMessage {
  return typeof chunk === 'object' && chunk !== null && SSE_MESSAGE in chunk
}

function singleLine(field: string, value: string): string {
  if (/[\r\n]/.test(value)) throw new TypeError(`an SSE ${field} must not contain a line break`)
  return value
}

/**
 * The bytes of one chunk of a raw text stream: strings as UTF-8, bytes as they are, anything else
 * as one line of JSON (newline-delimited JSON).
 * @example
 * textChunk({ a: 1 }) // the bytes of '{"a":1}\n'
 */
export function textChunk(chunk: unknown): Uint8Array {
  if (typeof chunk === 'string') return encoder.encode(chunk)
  if (chunk instanceof Uint8Array) return chunk
  if (chunk instanceof ArrayBuffer) return new Uint8Array(chunk)
  if (ArrayBuffer.isView(chunk))
    return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength)
  return encoder.encode(`${JSON.stringify(chunk)}\n`)
}

/** The Content-Type of a raw text stream, from its first chunk. */
function textContentType(first: unknown): string {
  if (typeof first === 'string') return 'text/plain; charset=utf-8'
  if (first instanceof ArrayBuffer || ArrayBuffer.isView(first)) return 'application/octet-stream'
  return 'application/x-ndjson'
}

/** How a stream's chunks are checked, and how its end is reported. */
export interface StreamOptions {
  mode: 'sse' | 'text'
  /** Checks (and may transform) each chunk before it is sent; throws to end the stream. */
  check?: ((chunk: unknown) => unknown) | undefined
  /** The JSON body of the `error` event for an error thrown mid-stream. */
  errorEvent: (error: unknown) => unknown
  /** Aborts the handler's signal: the client went away. */
  abort: (reason: unknown) => void
  /** Called once when the stream is over (finished, failed or cancelled) and the iterator closed. */
  end: (outcome: 'done' | 'error' | 'cancelled') => void
}

/**
 * The chunks of `iterator`, whose first result (already awaited, so that an error before the
 * first chunk still gets a proper status) is `first`, pulled one at a time: the one rule for a
 * handler's stream, whether it goes out as HTTP (`streamBody`) or as frames. `chunk` is each one
 * as the handler yielded it (an `sse()` message whole); what a caller gets is `value`.
 * @example
 * const source = chunkSource(it, await it.next(), { mode: 'sse', ...handlers })
 */
export function chunkSource(
  iterator: AsyncIterator<unknown>,
  first: IteratorResult<unknown>,
  options: StreamOptions
): ChunkSource & { nextChunk(): Promise<ChunkStep> } {
  const { check, errorEvent, abort, end } = options
  let next: IteratorResult<unknown> | undefined = first
  // `stopped`: no more chunks may be sent (the client cancelled, or the stream ended); `ended`:
  // the iterator is closed too and `end` has run.
  let stopped = false
  let ended = false
  const finish = (outcome: 'done' | 'error' | 'cancelled') => {
    stopped = true
    if (ended) return
    ended = true
    end(outcome)
  }
  const nextChunk = async (): Promise<ChunkStep> => {
    if (stopped) return { done: true }
    try {
      const result = next ?? (await iterator.next())
      next = undefined
      // Cancelled while the handler was producing this chunk: nobody is reading any more.
      if (stopped || result.done) {
        finish('done')
        return { done: true }
      }
      const chunk = check ? await check(result.value) : result.value
      if (stopped) return { done: true }
      return { done: false, value: chunk }
    } catch (error) {
      if (stopped) return { done: true }
      // The iterator may still be open (the check failed, not the handler).
      await closeIterator(iterator)
      finish('error')
      return { done: true, failed: errorEvent(error) }
    }
  }
  const text = options.mode === 'text' && (first.done || typeof first.value === 'string')
  return {
    mode: text ? 'text' : 'chunks',
    nextChunk,
    async next() {
      const step = await nextChunk()
      if (step.done) return step
      const { value } = step
      return { done: false, value: isSseMessage(value) ? value.data : value }
    },
    async cancel(reason) {
      if (stopped) return
      stopped = true
      abort(reason ?? new DOMException('the client closed the connection', 'AbortError'))
      await closeIterator(iterator)
      finish('cancelled')
    },
  }
}

/**
 * A response body and its headers streaming `source` over HTTP: server-sent events, or raw text.
 * @example
 * const { body, headers } = streamBody(chunkSource(it, await it.next(), options), first, 'sse')
 */
export function streamBody(
  source: ReturnType<typeof chunkSource>,
  first: IteratorResult<unknown>,
  mode: 'sse' | 'text',
  json: boolean
): { body: ReadableStream<Uint8Array>; headers: Record<string, string> } {
  const encode = (chunk: unknown) =>
    mode === 'sse' ? encoder.encode(sseFrame(chunk, json)) : textChunk(chunk)
  const body = new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        const step = await source.nextChunk()
        if (!step.done) {
          try {
            controller.enqueue(encode(step.value))
          } catch (error) {
            // An event that can't be written (a line break in its name): the stream ends here.
            await source.cancel(error)
            controller.error(error)
          }
          return
        }
        if (step.failed === undefined) {
          controller.close()
          return
        }
        if (mode === 'sse') {
          controller.enqueue(encoder.encode(sseFrame(sse({ event: 'error', data: step.failed }))))
          controller.close()
        } else {
          // A raw stream has no way to say "failed" but to break off: the client sees a
          // truncated body instead of a clean end.
          controller.error(new Error('the stream failed'))
        }
      },
      cancel: (reason) => source.cancel(reason),
    },
    // No read-ahead: pull only when the consumer reads.
    { highWaterMark: 0 }
  )
  const headers: Record<string, string> =
    mode === 'sse'
      ? {
          'content-type': 'text/event-stream; charset=utf-8',
          'cache-control': 'no-cache',
          // Tells nginx-style proxies not to buffer the events.
          'x-accel-buffering': 'no',
        }
      : { 'content-type': textContentType(first.done ? '' : first.value) }
  return { body, headers }
}

/**
 * Closes an iterator early so its `finally` blocks run; errors from closing are ignored.
 * @example
 * await closeIterator(iterator)
 */
export async function closeIterator(iterator: AsyncIterator<unknown>): Promise<void> {
  try {
    await iterator.return?.()
  } catch {
    // The iterator failed while closing; the stream is over either way.
  }
}
