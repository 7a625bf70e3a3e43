// The caller's side of the framed transport: one connection per callee worker, opened on the first
// call and shared by every call to it, each call a numbered exchange of frames. A call whose
// connection fails before its answer rejects (the endpoint pool sends it once more, elsewhere);
// one that fails after it began streaming fails mid-stream. Node's `net` serves all three
// runtimes here (Bun and Deno implement it, Unix sockets included).
import { Buffer } from 'node:buffer'
import net from 'node:net'
import type { Answer, CallRequest } from '../client/answer.ts'
import { completeAnswer, decodeBody, StreamFailed, streamedAnswer } from '../client/answer.ts'
import { queryOf } from '../client/http.ts'
import {
  type CallHead,
  encodeFrame,
  FRAME,
  type Frame,
  frameReader,
  STREAM_WINDOW,
  splitPayload,
} from './codec.ts'

interface Pending {
  resolve(answer: Answer): void
  reject(error: unknown): void
  /** Set once its answer began streaming. */
  stream?: StreamState
  signal: AbortSignal
  onAbort: () => void
}

interface StreamState {
  queue: unknown[]
  waiting: (() => void) | undefined
  /** 'end', or the error that ended it. */
  end: { failed?: unknown; error?: unknown } | undefined
  /** Chunks read since credit was last given back. */
  read: number
  settle(): void
}

/**
 * One connection to a callee worker's framed socket.
 * @example
 * const connection = new FrameConnection('/tmp/bento-x/embedder/1.1.sock', token)
 * const answer = await connection.send(call)
 */
export class FrameConnection {
  #socket: net.Socket | undefined
  #pending = new Map<number, Pending>()
  #nextId = 0
  #closed = false

  constructor(
    private readonly path: string,
    private readonly token: string,
    private readonly onClose: () => void = () => {}
  ) {}

  /** True once the connection failed or closed: a new call needs a new connection. */
  get closed(): boolean {
    return this.#closed
  }

  /** Sends `call`; resolves with its answer's first frame. */
  send(call: CallRequest): Promise<Answer> {
    const socket = this.#socket ?? this.#open()
    this.#nextId = (this.#nextId + 1) >>> 0 || 1
    const id = this.#nextId
    const head: CallHead = { api: call.api.name }
    if (call.requestId !== undefined) head.requestId = call.requestId
    if (call.traceparent !== undefined) head.traceparent = call.traceparent
    if (call.timeoutMs !== undefined) head.timeoutMs = call.timeoutMs
    for (const _ in call.headers) {
      head.headers = call.headers
      break
    }
    let body = ''
    if (call.api.method === 'GET') head.query = queryOf(call.input)
    else if (call.input !== undefined) body = JSON.stringify(call.input)
    return new Promise<Answer>((resolve, reject) => {
      const { signal } = call
      const onAbort = () => {
        const entry = this.#pending.get(id)
        if (entry === undefined) return
        this.#pending.delete(id)
        if (!this.#closed) socket.write(encodeFrame(FRAME.cancel, id, String(signal.reason)))
        if (entry.stream !== undefined) finish(entry.stream, { error: signal.reason })
        else reject(signal.reason)
      }
      this.#pending.set(id, { resolve, reject, signal, onAbort })
      signal.addEventListener('abort', onAbort, { once: true })
      socket.write(encodeFrame(FRAME.call, id, JSON.stringify(head), body, true))
    })
  }

  /** Closes the connection; calls in flight fail as if it broke. */
  close(): void {
    this.#socket?.destroy()
  }

  #open(): net.Socket {
    const socket = net.connect(this.path)
    this.#socket = socket
    socket.setNoDelay?.(true)
    // Written before the connection is up: the socket holds it until then, ahead of any call.
    socket.write(encodeFrame(FRAME.hello, 0, this.token))
    const read = frameReader((frame) => this.#receive(frame))
    socket.on('data', (data: Buffer) => {
      try {
        read(data)
      } catch (error) {
        socket.destroy(error as Error)
      }
    })
    const fail = (error?: Error) => {
      if (this.#closed) return
      this.#closed = true
      this.onClose()
      const why = error ?? new Error(`the connection to ${this.path} closed`)
      for (const [, entry] of this.#pending) {
        entry.signal.removeEventListener('abort', entry.onAbort)
        if (entry.stream !== undefined) finish(entry.stream, { error: why })
        else entry.reject(why)
      }
      this.#pending.clear()
    }
    socket.on('error', fail)
    socket.on('close', () => fail())
    return socket
  }

  #receive(frame: Frame): void {
    const entry = this.#pending.get(frame.id)
    if (entry === undefined) return
    switch (frame.kind) {
      case FRAME.answer: {
        const { head, rest } = splitPayload(frame.payload)
        const meta = JSON.parse(head) as {
          status: number
          type?: string
          stream?: 'text' | 'chunks'
        }
        if (meta.stream === undefined) {
          this.#done(frame.id, entry)
          entry.resolve(
            completeAnswer(meta.status, async () => decodeBody(rest, meta.type ?? '', meta.status))
          )
          return
        }
        entry.stream = {
          queue: [],
          waiting: undefined,
          end: undefined,
          read: 0,
          settle: () => {},
        }
        entry.resolve(this.#streamAnswer(frame.id, entry, meta.stream))
        return
      }
      case FRAME.chunk: {
        const stream = entry.stream
        if (stream === undefined) return
        stream.queue.push(JSON.parse(frame.payload.toString('utf8')))
        wake(stream)
        return
      }
      case FRAME.end:
      case FRAME.fail: {
        const stream = entry.stream
        this.#done(frame.id, entry)
        if (stream === undefined) return
        finish(
          stream,
          frame.kind === FRAME.end ? {} : { failed: JSON.parse(frame.payload.toString('utf8')) }
        )
        return
      }
    }
  }

  // The exchange is over on the callee's side: its id is free and its abort no longer matters.
  #done(id: number, entry: Pending): void {
    this.#pending.delete(id)
    entry.signal.removeEventListener('abort', entry.onAbort)
  }

  #streamAnswer(id: number, entry: Pending, mode: 'text' | 'chunks'): Answer {
    const stream = entry.stream!
    const settled = new Promise<void>((resolve) => {
      stream.settle = resolve
    })
    const socket = this.#socket!
    const chunks = async function* (this: FrameConnection): AsyncGenerator<unknown> {
      try {
        for (;;) {
          if (stream.queue.length > 0) {
            const chunk = stream.queue.shift()
            // Credit goes back in halves of the window: one frame per eight chunks read.
            if (++stream.read >= STREAM_WINDOW / 2 && stream.end === undefined) {
              const credit = Buffer.allocUnsafe(4)
              credit.writeUInt32BE(stream.read)
              stream.read = 0
              if (!this.#closed) socket.write(encodeFrame(FRAME.credit, id, credit))
            }
            yield chunk
            continue
          }
          const end = stream.end
          if (end !== undefined) {
            if (end.error !== undefined) throw end.error
            if (end.failed !== undefined) throw new StreamFailed(end.failed)
            return
          }
          await new Promise<void>((resolve) => {
            stream.waiting = resolve
          })
        }
      } finally {
        // Left before the end (a break, a failure): the callee's handler is cancelled.
        if (stream.end === undefined) entry.onAbort()
        stream.settle()
      }
    }.bind(this)
    return streamedAnswer(chunks, mode, settled)
  }
}

function wake(stream: StreamState): void {
  const waiting = stream.waiting
  stream.waiting = undefined
  waiting?.()
}

function finish(stream: StreamState, end: { failed?: unknown; error?: unknown }): void {
  stream.end ??= end
  wake(stream)
}

/**
 * The connection to each callee worker (by socket path), opened on first use and replaced once it
 * has closed.
 * @example
 * const answer = await framesTo('/tmp/bento-x/embedder/1.1.sock', token).send(call)
 */
export function framesTo(path: string, token: string): FrameConnection {
  let connection = connections.get(path)
  if (connection === undefined || connection.closed) {
    connection = new FrameConnection(path, token, () => {
      if (connections.get(path) === connection) connections.delete(path)
    })
    connections.set(path, connection)
  }
  return connection
}

const connections = new Map<string, FrameConnection>()
