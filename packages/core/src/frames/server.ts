// The callee's side of the framed transport: a worker's private socket, where each connection
// first proves it belongs to the graph (its token), then sends calls that go straight to the
// service's local APIs. A stream's chunks go out as the caller gives credit for them, and only
// while the socket takes them, so a slow reader slows its handler rather than filling memory.
import { Buffer } from 'node:buffer'
import { chmodSync, rmSync } from 'node:fs'
import net from 'node:net'
import type { ChunkSource, LocalApi, LocalCall } from '../client/local.ts'
import {
  type CallHead,
  encodeFrame,
  FRAME,
  type Frame,
  frameReader,
  MAX_FRAME,
  MAX_HELLO,
  STREAM_WINDOW,
  splitPayload,
} from './codec.ts'

/** A framed socket being served. */
export interface FrameListener {
  /**
   * Stops taking connections; calls in flight finish (at most `graceMs` for the connections to
   * go idle), then every connection closes.
   */
  close(graceMs: number): Promise<void>
}

// One call as its handler sees it. Its signal is made only if something asks for it (most calls
// end without anyone looking), and aborted when the caller cancels or goes away.
class FramedCall implements LocalCall {
  body: Uint8Array | undefined
  query: string | undefined
  requestId: string | undefined
  traceparent: string | undefined
  headers: Record<string, string> | undefined
  timeoutMs: number | undefined
  #controller: AbortController | undefined
  #reason: unknown

  constructor(head: CallHead, rest: Buffer) {
    this.requestId = head.requestId
    this.traceparent = head.traceparent
    this.headers = head.headers
    this.timeoutMs = head.timeoutMs
    this.query = head.query
    this.body = head.query === undefined && rest.byteLength > 0 ? rest : undefined
  }

  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      this.#controller = new AbortController()
      if (this.#reason !== undefined) this.#controller.abort(this.#reason)
    }
    return this.#controller.signal
  }

  abort(reason: unknown): void {
    if (this.#reason !== undefined) return
    this.#reason = reason
    this.#controller?.abort(reason)
  }
}

interface Exchange {
  call: FramedCall
  /** The stream being sent, with the chunks its caller will still take. */
  stream?: ChunkSource
  credit: number
  resume: (() => void) | undefined
}

const NOT_FOUND = (api: string, known: string[]) =>
  JSON.stringify({ error: `no API "${api}" here; this worker has ${known.join(', ')}` })

/**
 * Serves `apis` (by name) on the Unix socket at `path` (mode 0600) to callers holding `token`.
 * @example
 * const listener = await serveFrames('/tmp/bento-x/embedder/1.1.sock', apis, token)
 */
export async function serveFrames(
  path: string,
  apis: ReadonlyMap<string, LocalApi>,
  token: string
): Promise<FrameListener> {
  const open = new Map<net.Socket, Map<number, Exchange>>()
  let draining = false
  let drained: (() => void) | undefined
  const server = net.createServer((socket) => {
    const exchanges = new Map<number, Exchange>()
    open.set(socket, exchanges)
    // The streams waiting for room in this socket: one 'drain' listener wakes them all, however
    // many streams share the connection.
    const roomWaiters = new Set<() => void>()
    socket.on('drain', () => {
      const woken = [...roomWaiters]
      roomWaiters.clear()
      for (const wake of woken) wake()
    })
    let trusted = false
    const read = frameReader(
      (frame) => {
        if (!trusted) {
          trusted = frame.kind === FRAME.hello && sameBytes(frame.payload, token)
          // Not the graph: nothing is answered, and the connection ends.
          if (!trusted) socket.destroy()
          return
        }
        receive(socket, exchanges, roomWaiters, frame)
      },
      () => (trusted ? MAX_FRAME : MAX_HELLO)
    )
    socket.on('data', (data: Buffer) => {
      try {
        read(data)
      } catch {
        socket.destroy()
      }
    })
    socket.on('error', () => {})
    socket.on('close', () => {
      for (const exchange of exchanges.values()) {
        exchange.call.abort(new DOMException('the caller went away', 'AbortError'))
        exchange.resume?.()
      }
      exchanges.clear()
      open.delete(socket)
      if (draining && open.size === 0) drained?.()
    })
  })

  function receive(
    socket: net.Socket,
    exchanges: Map<number, Exchange>,
    roomWaiters: Set<() => void>,
    frame: Frame
  ): void {
    const { id } = frame
    switch (frame.kind) {
      case FRAME.call: {
        const { head, rest } = splitPayload(frame.payload)
        const meta = JSON.parse(head) as CallHead
        const call = new FramedCall(meta, rest)
        const exchange: Exchange = { call, credit: STREAM_WINDOW, resume: undefined }
        exchanges.set(id, exchange)
        const api = apis.get(meta.api)
        if (api === undefined) {
          exchanges.delete(id)
          const known = [...apis.keys()].filter((name) => !name.startsWith('~'))
          answer(socket, id, 404, 'application/json', NOT_FOUND(meta.api, known))
          return
        }
        void run(socket, exchanges, roomWaiters, id, exchange, api, call)
        return
      }
      case FRAME.cancel: {
        const exchange = exchanges.get(id)
        if (exchange === undefined) return
        exchanges.delete(id)
        const reason = new DOMException(
          frame.payload.toString('utf8') || 'the caller cancelled the call',
          'AbortError'
        )
        exchange.call.abort(reason)
        void exchange.stream?.cancel(reason)
        exchange.resume?.()
        return
      }
      case FRAME.credit: {
        const exchange = exchanges.get(id)
        if (exchange === undefined || frame.payload.byteLength < 4) return
        exchange.credit += frame.payload.readUInt32BE(0)
        exchange.resume?.()
        return
      }
    }
  }

  async function run(
    socket: net.Socket,
    exchanges: Map<number, Exchange>,
    roomWaiters: Set<() => void>,
    id: number,
    exchange: Exchange,
    api: LocalApi,
    call: LocalCall
  ): Promise<void> {
    let outcome: Awaited<ReturnType<LocalApi>>
    try {
      outcome = await api(call)
    } catch (error) {
      // The adapter answers every failure itself; this is a bug in it, said as a 500.
      outcome = {
        status: 500,
        type: 'application/json',
        body: JSON.stringify({ error: `internal error: ${(error as Error)?.message ?? error}` }),
      }
    }
    if (exchanges.get(id) !== exchange) {
      // Cancelled meanwhile: nobody reads the answer; a stream is closed so its handler ends.
      if (outcome.stream !== undefined) await outcome.stream.cancel(call.signal.reason)
      return
    }
    if (outcome.stream === undefined) {
      exchanges.delete(id)
      answer(socket, id, outcome.status, outcome.type, outcome.body)
      return
    }
    const source = outcome.stream
    exchange.stream = source
    socket.write(
      encodeFrame(FRAME.answer, id, JSON.stringify({ status: 200, stream: source.mode }), '', true)
    )
    for (;;) {
      // Wait for credit from the caller and room in the socket.
      // Woken by either; the other's hold on the waiter goes, so none piles up.
      while (exchanges.get(id) === exchange && (exchange.credit <= 0 || socket.writableNeedDrain)) {
        let wake!: () => void
        await new Promise<void>((resolve) => {
          wake = resolve
          exchange.resume = resolve
          if (socket.writableNeedDrain) roomWaiters.add(resolve)
        })
        roomWaiters.delete(wake)
        exchange.resume = undefined
      }
      if (exchanges.get(id) !== exchange) return
      const step = await source.next()
      if (exchanges.get(id) !== exchange) return
      if (step.done) {
        exchanges.delete(id)
        socket.write(
          step.failed === undefined
            ? encodeFrame(FRAME.end, id)
            : encodeFrame(FRAME.fail, id, JSON.stringify(step.failed))
        )
        return
      }
      exchange.credit--
      socket.write(encodeFrame(FRAME.chunk, id, JSON.stringify(step.value ?? null)))
    }
  }

  rmSync(path, { force: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(path, () => resolve())
  })
  chmodSync(path, 0o600)
  return {
    async close(graceMs) {
      draining = true
      server.close()
      // Calls keep arriving on open connections for a moment (until the callers hear this worker
      // is going) and are answered; then each connection ends once it has none in flight. The
      // worker's drain timeout bounds the wait from outside.
      const busy = () => [...open.values()].some((exchanges) => exchanges.size > 0)
      // No caller connected (its tier stopped first): nothing can arrive.
      if (open.size === 0) return
      await new Promise((resolve) => setTimeout(resolve, graceMs))
      while (busy()) await new Promise((resolve) => setTimeout(resolve, 20))
      if (open.size === 0) return
      const gone = new Promise<void>((resolve) => {
        drained = resolve
      })
      for (const socket of open.keys()) socket.end()
      await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, 1000))])
    },
  }
}

function answer(
  socket: net.Socket,
  id: number,
  status: number,
  type: string,
  body: string | Uint8Array
): void {
  if (socket.destroyed) return
  socket.write(encodeFrame(FRAME.answer, id, JSON.stringify({ status, type }), body, true))
}

// In time that depends on the length only, so that answers don't tell how much of a guess was right.
function sameBytes(given: Buffer, expected: string): boolean {
  const want = Buffer.from(expected)
  if (given.byteLength !== want.byteLength) return false
  let diff = 0
  for (let i = 0; i < want.byteLength; i++) diff |= given[i]! ^ want[i]!
  return diff === 0
}
