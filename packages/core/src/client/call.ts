// One call to an API of another service, whatever carries it (frames to a worker of the graph,
// HTTP to a URL, a handler in this process): one signal and at most one timer per call, the answer
// classified once when it arrives and decoded once when it is read. It is sent at once; what it
// returns can be awaited (the answer) or iterated (a streaming API's chunks). Edge-safe: no
// `node:` imports.
import type { CallOptions, PendingCall } from '../service/types.ts'
import { type Answer, type CallRequest, StreamFailed } from './answer.ts'
import { CallError } from './errors.ts'

export { TIMEOUT_HEADER } from './http.ts'

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
  /** Sends a call; rejects when nothing answered (the connection failed, or its signal aborted). */
  send(call: CallRequest): Promise<Answer>
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
  readonly #answer: Promise<Answer>
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
    this.#answer = this.#send(input, context, options, limit).then(
      (answer) => {
        clearTimeout(this.#timer)
        if (!answer.streamed) this.#detach?.()
        report(answer.status)
        return answer
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
    this.#answer.catch(() => {})
  }

  #send(input: unknown, context: CallContext, options: CallOptions, limit: number) {
    // The caller's abort reaches the call through its own controller (AbortSignal.any is slow on
    // Node 20, and this is on every call's path).
    const caller = this.#caller
    const controller = this.#controller
    if (caller !== undefined) {
      const forward = () => controller.abort(caller.reason)
      if (caller.aborted) forward()
      else {
        caller.addEventListener('abort', forward, { once: true })
        this.#detach = () => caller.removeEventListener('abort', forward)
      }
    }
    let timeoutMs: number | undefined
    if (Number.isFinite(limit)) {
      const ms = Math.max(0, Math.floor(limit))
      timeoutMs = ms
      this.#timer = setTimeout(() => {
        controller.abort(new DOMException(`the call took longer than its ${ms} ms`, 'TimeoutError'))
      }, ms)
    }
    if (controller.signal.aborted) return Promise.reject(controller.signal.reason)
    const headers =
      options.headers === undefined
        ? (context.headers ?? {})
        : { ...context.headers, ...options.headers }
    return this.#target.send({
      api: this.#api,
      input,
      headers,
      requestId: context.requestId,
      traceparent: context.traceparent,
      timeoutMs,
      signal: controller.signal,
    })
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

  async #failed(answer: Answer): Promise<never> {
    let body = await answer.value().catch(() => '')
    if (body instanceof Uint8Array) body = new TextDecoder().decode(body)
    const said =
      typeof body === 'object' &&
      body !== null &&
      typeof (body as { error?: unknown }).error === 'string'
        ? (body as { error: string }).error
        : typeof body === 'string'
          ? body.slice(0, 200)
          : ''
    throw new CallError({
      service: this.#target.service,
      api: this.#api.name,
      status: answer.status,
      body,
      message: `${this.#target.service}.${this.#api.name} answered ${answer.status}${said ? `: ${said}` : ''}`,
    })
  }

  #result(): Promise<unknown> {
    this.#value ??= this.#answer.then((answer) => {
      if (answer.status >= 300) return this.#failed(answer)
      if (!answer.streamed) return answer.value()
      return this.#read(answer.value())
    })
    return this.#value
  }

  // biome-ignore lint/suspicious/noThenProperty: a call is awaited like a promise
  then<A = unknown, B = never>(
    onFulfilled?: ((value: unknown) => A | PromiseLike<A>) | null,
    onRejected?: ((reason: unknown) => B | PromiseLike<B>) | null
  ): Promise<A | B> {
    return this.#result().then(onFulfilled, onRejected)
  }

  catch<E = never>(onRejected?: (reason: unknown) => E | PromiseLike<E>): Promise<unknown> {
    return this.#result().catch(onRejected)
  }

  finally(onFinally?: () => void): Promise<unknown> {
    return this.#result().finally(onFinally)
  }

  async *[Symbol.asyncIterator](): AsyncIterator<unknown> {
    const answer = await this.#answer
    if (answer.status >= 300) await this.#failed(answer)
    if (!answer.streamed) {
      yield* answer.chunks()
      return
    }
    let finished = false
    try {
      for await (const chunk of this.#guard(answer.chunks())) yield chunk
      finished = true
    } finally {
      // Left early (a `break`, an error): the callee's handler is cancelled, not left running.
      if (!finished)
        this.#controller.abort(new DOMException('the caller stopped reading', 'AbortError'))
    }
  }

  // A stream's whole value, with a failure mid-way said as a CallError.
  async #read(value: Promise<unknown>): Promise<unknown> {
    try {
      return await value
    } catch (error) {
      throw this.#midStream(error)
    }
  }

  async *#guard(chunks: AsyncIterable<unknown>): AsyncGenerator<unknown> {
    try {
      yield* chunks
    } catch (error) {
      throw this.#midStream(error)
    }
  }

  #midStream(error: unknown): unknown {
    if (!(error instanceof StreamFailed)) return error
    const said = (error.body as { error?: unknown } | null)?.error
    return new CallError({
      service: this.#target.service,
      api: this.#api.name,
      status: 502,
      body: error.body,
      message: `${this.#target.service}.${this.#api.name} failed mid-stream${typeof said === 'string' ? `: ${said}` : ''}`,
    })
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
