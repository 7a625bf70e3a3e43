// What one request carries through the adapter: the `ctx` its handler gets, and the `InFlight` behind
// it (deadline, abort switch, and claim on the API's concurrency permit and in-flight count). Two
// objects per request and no closures on the fast path: on a quick handler these allocations are a
// visible part of what the adapter adds to a hand-written route.
import type { ApiContext, Clients, Service, WorkerInfo } from '@bento/core'
import { dependsFor, type TracedRequest } from '@bento/core/adapter'
import type { ApiMetrics } from './metrics.ts'
import type { ServiceState } from './state.ts'

/**
 * One request in flight: counted in its API's in-flight gauge from arrival, holding a concurrency
 * permit once admitted, until `finish`, which runs when the handler has really returned (or its
 * stream ended), however early the client got its answer. Also the handler's abort signal, created
 * on first read (most handlers never look at it, and an AbortController per request is measurable),
 * aborted when the client goes away (the request's own signal) or the request times out.
 * @example
 * const inFlight = new InFlight(requestId, c.req.raw, state, metrics)
 * inFlight.takePermit(); ...; inFlight.finish()
 */
export class InFlight {
  /** When the request arrived (`performance.now()`). */
  readonly arrived = performance.now()
  /** Set once the handler runs: from then on the handler's settling calls `finish`, not the request. */
  handedOver = false
  readonly #request: { readonly signal: AbortSignal }
  readonly #state: ServiceState
  readonly #metrics: ApiMetrics
  #permit = false
  #done = false
  #controller: AbortController | undefined
  #aborted = false
  #reason: unknown
  #finisher: (() => void) | undefined

  constructor(
    readonly requestId: string,
    /** What carries the request: its signal aborts when the caller goes away. */
    request: { readonly signal: AbortSignal },
    state: ServiceState,
    metrics: ApiMetrics,
    /** Seconds the request may take: `traffic.timeout`, capped by a calling service's deadline. */
    readonly timeout: number,
    /** The request's spans, when tracing is on. */
    readonly traced?: TracedRequest | undefined
  ) {
    this.#request = request
    this.#state = state
    this.#metrics = metrics
    metrics.inFlight++
  }

  /** The handler's signal. */
  get signal(): AbortSignal {
    if (this.#controller === undefined) {
      const controller = new AbortController()
      this.#controller = controller
      if (this.#aborted) controller.abort(this.#reason)
      else {
        const upstream = this.#request.signal
        if (upstream.aborted) controller.abort(upstream.reason)
        else
          upstream.addEventListener('abort', () => controller.abort(upstream.reason), {
            once: true,
          })
      }
    }
    return this.#controller.signal
  }

  /** Aborts the handler's signal with `reason` (once). */
  abort(reason: unknown): void {
    if (this.#aborted) return
    this.#aborted = true
    this.#reason = reason
    this.#controller?.abort(reason)
  }

  /** Milliseconds left of the request's `timeout`, counted from arrival. */
  left(): number {
    return this.timeout * 1000 - (performance.now() - this.arrived)
  }

  /** Records that the request now holds a concurrency permit. */
  takePermit(): void {
    this.#permit = true
  }

  /** Frees the permit and leaves the in-flight count; later calls do nothing. */
  finish(): void {
    if (this.#done) return
    this.#done = true
    if (this.#permit) this.#state.limiter!.release()
    this.#metrics.inFlight--
  }

  /** `finish` as a callback, made only where one is needed. */
  get finisher(): () => void {
    this.#finisher ??= () => this.finish()
    return this.#finisher
  }
}

/**
 * A handler's `ctx`: the worker, the request, and its signal.
 * @example
 * const ctx = new HandlerContext(lifecycle.worker, state, request, inFlight, service)
 */
export class HandlerContext implements ApiContext {
  readonly workerIndex: number
  readonly workerCount: number
  readonly gpus: string[]
  readonly threads: number
  readonly requestId: string
  readonly #inFlight: InFlight
  readonly #service: Service
  readonly #request: { readonly headers: Headers }
  #depends: Clients<unknown> | undefined

  constructor(
    worker: WorkerInfo,
    readonly state: unknown,
    /** What carries the request: its headers are read only if the handler asks. */
    request: { readonly headers: Headers },
    inFlight: InFlight,
    service: Service
  ) {
    this.#request = request
    this.workerIndex = worker.workerIndex
    this.workerCount = worker.workerCount
    this.gpus = worker.gpus
    this.threads = worker.threads
    this.requestId = inFlight.requestId
    this.#inFlight = inFlight
    this.#service = service
  }

  get signal(): AbortSignal {
    return this.#inFlight.signal
  }

  get headers(): Headers {
    return this.#request.headers
  }

  /** Milliseconds left before this request times out (a batch's calls last as long as its longest). */
  remainingMs(): number {
    return this.#inFlight.left()
  }

  /** The request's spans, when tracing is on. */
  get traced(): TracedRequest | undefined {
    return this.#inFlight.traced
  }

  /** The clients of the services this one depends on, made on first use. */
  get depends(): Clients<unknown> {
    this.#depends ??= dependsFor(this.#service, {
      signal: this.#inFlight.signal,
      remainingMs: () => this.#inFlight.left(),
      requestId: this.requestId,
      headers: this.headers,
      traced: this.#inFlight.traced,
    }) as Clients<unknown>
    return this.#depends
  }
}
