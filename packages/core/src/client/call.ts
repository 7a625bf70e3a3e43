// One call to an API of another service, over HTTP/1.1 with JSON, whatever carries it (a worker's
// Unix socket, a URL, an app in the same process). It is sent at once; what it returns can be
// awaited (the answer) or iterated (a streaming API's chunks). Edge-safe: no `node:` imports.
import type { OutgoingCall } from '../runtime/types.ts'
import type { CallOptions, PendingCall } from '../service/clients.ts'
import { isStreamed, jsonLines, STREAM_JSON_HEADER, serverEvents, textPieces } from './chunks.ts'
import { CallError } from './errors.ts'

/** Where an API answers. */
export interface ApiRoute {
  name: string
  route: string
  method: string
}

/** Carries calls to one service: a pool of its workers, a URL, or an app in this process. */
export interface Target {
  /** The service's name, for errors and metrics. */
  readonly service: string
  /** Sends a request; rejects when no response came (the connection failed, or `signal` aborted). */
  send(call: OutgoingCall, signal: AbortSignal): Promise<Response>
}

/** What a call inherits from the request that makes it (nothing, from a program). */
export interface CallContext {
  /** The caller's own signal: its client left, or its time ran out. */
  signal?: AbortSignal | undefined
  /** Milliseconds the caller has left: the call gets no more. */
  remainingMs?: number | undefined
  requestId?: string | undefined
  traceparent?: string | undefined
  headers?: Record<string, string> | undefined
  /** Called once, when the answer's status is known (`status`) or nothing answered (`error`). */
  onDone?: ((outcome: number | 'error' | 'timeout', seconds: number) => void) | undefined
}

/** The header carrying the caller's remaining milliseconds; the callee's timeout is capped by it. */
export const TIMEOUT_HEADER = 'bento-timeout'

/**
 * Sends one call and returns it in flight.
 * @example
 * const vector = await startCall(target, { name: 'embed', route: '/embed', method: 'POST' }, { text }, {}, {})
 */
export function startCall(
  target: Target,
  api: ApiRoute,
  input: unknown,
  context: CallContext,
  options: CallOptions | undefined
): PendingCall<unknown> {
  return new Call(target, api, input, context, options ?? {})
}

class Call implements PendingCall<unknown> {
  readonly #target: Target
  readonly #api: ApiRoute
  readonly #controller = new AbortController()
  readonly #caller: AbortSignal | undefined
  readonly #response: Promise<Response>
  #value: Promise<unknown> | undefined
  #timer: ReturnType<typeof setTimeout> | undefined
  #detach: (() => void) | undefined

  constructor(
    target: Target,
    api: ApiRoute,
    input: unknown,
    context: CallContext,
    options: CallOptions
  ) {
    this.#target = target
    this.#api = api
    this.#caller = either(context.signal, options.signal)
    const began = performance.now()
    const limit = Math.min(options.timeout ?? Infinity, context.remainingMs ?? Infinity)
    let done = false
    const report = (outcome: number | 'error' | 'timeout') => {
      if (done) return
      done = true
      context.onDone?.(outcome, (performance.now() - began) / 1000)
    }
    this.#response = this.#send(input, context, options, limit).then(
      (response) => {
        clearTimeout(this.#timer)
        if (!isStreamed(response.headers.get('content-type') ?? '')) this.#detach?.()
        report(response.status)
        return response
      },
      (error: unknown) => {
        clearTimeout(this.#timer)
        this.#detach?.()
        const failure = this.#failure(error, limit)
        report(failure instanceof CallError && failure.status === 504 ? 'timeout' : 'error')
        throw failure
      }
    )
    // Whoever awaits or iterates the call sees a failure; a call nobody waits for must not
    // crash the process with an unhandled rejection.
    this.#response.catch(() => {})
  }

  async #send(
    input: unknown,
    context: CallContext,
    options: CallOptions,
    limit: number
  ): Promise<Response> {
    const { method, route } = this.#api
    const headers: Record<string, string> = {
      accept: 'application/json, text/event-stream;q=0.9, */*;q=0.1',
      [STREAM_JSON_HEADER]: 'json',
      ...context.headers,
      ...options.headers,
    }
    if (context.requestId !== undefined) headers['x-request-id'] = context.requestId
    if (context.traceparent !== undefined) headers.traceparent = context.traceparent
    let path = route
    let body: string | undefined
    if (method === 'GET') path += queryOf(input)
    else if (input !== undefined) {
      body = JSON.stringify(input)
      headers['content-type'] = 'application/json'
    }
    // The caller's abort reaches the call through its own controller (AbortSignal.any is slow on
    // Node 20, and this is on every call's path).
    const caller = this.#caller
    const signal = this.#controller.signal
    if (caller !== undefined) {
      const forward = () => this.#controller.abort(caller.reason)
      if (caller.aborted) forward()
      else {
        caller.addEventListener('abort', forward, { once: true })
        this.#detach = () => caller.removeEventListener('abort', forward)
      }
    }
    if (Number.isFinite(limit)) {
      const ms = Math.max(0, Math.floor(limit))
      headers[TIMEOUT_HEADER] = String(ms)
      this.#timer = setTimeout(() => {
        this.#controller.abort(
          new DOMException(`the call took longer than its ${ms} ms`, 'TimeoutError')
        )
      }, ms)
    }
    if (signal.aborted) throw signal.reason
    return this.#target.send({ method, path, headers, body, signal }, signal)
  }

  // What a failure to get an answer becomes: the caller's own abort stays itself (its handler is
  // being cancelled anyway); running out of time is a 504; anything else is a 503.
  #failure(error: unknown, limit: number): unknown {
    if (this.#caller?.aborted) return this.#caller.reason
    const { service } = this.#target
    const name = `${service}.${this.#api.name}`
    if (this.#controller.signal.aborted) {
      return new CallError(
        {
          service,
          api: this.#api.name,
          status: 504,
          message: `${name} did not answer within ${Math.floor(limit)} ms`,
        },
        { cause: error }
      )
    }
    if (error instanceof CallError) {
      if (error.api !== '') return error
      return new CallError({
        service,
        api: this.#api.name,
        status: error.status,
        message: error.message,
      })
    }
    const why = error instanceof Error ? error.message : String(error)
    return new CallError(
      {
        service,
        api: this.#api.name,
        status: 503,
        message: `${name} could not be reached: ${why}`,
      },
      { cause: error }
    )
  }

  async #failed(response: Response): Promise<never> {
    const text = await response.text().catch(() => '')
    let body: unknown = text
    try {
      body = JSON.parse(text)
    } catch {
      // Not JSON (a proxy's error page, say): kept as text.
    }
    const said =
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : text.slice(0, 200)
    throw new CallError({
      service: this.#target.service,
      api: this.#api.name,
      status: response.status,
      body,
      message: `${this.#target.service}.${this.#api.name} answered ${response.status}${said ? `: ${said}` : ''}`,
    })
  }

  #answer(): Promise<unknown> {
    this.#value ??= this.#response.then(async (response) => {
      if (!response.ok) return this.#failed(response)
      const type = response.headers.get('content-type') ?? ''
      if (isStreamed(type) && !/^text\/plain/i.test(type)) {
        const chunks: unknown[] = []
        for await (const chunk of this.#chunks(response)) chunks.push(chunk)
        return chunks
      }
      return readBody(response, type)
    })
    return this.#value
  }

  // biome-ignore lint/suspicious/noThenProperty: a call is awaited like a promise
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null
  ): Promise<A | B> {
    return this.#answer().then(onFulfilled, onRejected)
  }

  catch<E = never>(onRejected?: (reason: unknown) => E | PromiseLike<E>): Promise<unknown> {
    return this.#answer().catch(onRejected)
  }

  finally(onFinally?: () => void): Promise<unknown> {
    return this.#answer().finally(onFinally)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const response = await this.#response
    if (!response.ok) await this.#failed(response)
    const type = response.headers.get('content-type') ?? ''
    if (!isStreamed(type)) {
      yield await readBody(response, type)
      return
    }
    yield* this.#chunks(response)
  }

  async *#chunks(response: Response): AsyncGenerator<unknown> {
    const body = response.body
    if (body === null) return
    const type = response.headers.get('content-type') ?? ''
    let finished = false
    try {
      if (/^text\/event-stream/i.test(type)) {
        for await (const { event, data } of serverEvents(body)) {
          const value = parseData(data)
          if (event === 'error') {
            const said = (value as { error?: unknown } | null)?.error
            throw new CallError({
              service: this.#target.service,
              api: this.#api.name,
              status: 502,
              body: value,
              message: `${this.#target.service}.${this.#api.name} failed mid-stream${typeof said === 'string' ? `: ${said}` : ''}`,
            })
          }
          yield value
        }
      } else if (/^application\/x-ndjson/i.test(type)) yield* jsonLines(body)
      else yield* textPieces(body)
      finished = true
    } finally {
      // Left early (a `break`, an error): the callee's handler is cancelled, not left running.
      if (!finished)
        this.#controller.abort(new DOMException('the caller stopped reading', 'AbortError'))
    }
  }
}

// One signal for two optional ones, made only when both are there.
function either(a: AbortSignal | undefined, b: AbortSignal | undefined): AbortSignal | undefined {
  if (a === undefined || b === undefined) return a ?? b
  const controller = new AbortController()
  const abort = (signal: AbortSignal) => () => controller.abort(signal.reason)
  if (a.aborted || b.aborted) controller.abort((a.aborted ? a : b).reason)
  else {
    a.addEventListener('abort', abort(a), { once: true })
    b.addEventListener('abort', abort(b), { once: true })
  }
  return controller.signal
}

function parseData(data: string): unknown {
  try {
    return JSON.parse(data)
  } catch {
    return data
  }
}

async function readBody(response: Response, type: string): Promise<unknown> {
  if (/json/i.test(type)) {
    const text = await response.text()
    return text === '' ? undefined : JSON.parse(text)
  }
  if (/^text\//i.test(type)) return response.text()
  if (response.status === 204) return undefined
  return new Uint8Array(await response.arrayBuffer())
}

// A GET API's input as a query string: each field of an object (arrays repeat the key).
function queryOf(input: unknown): string {
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
