// What the HTTP adapter and the client see of OpenTelemetry: one object per request, with no type
// from an OpenTelemetry package, so that this module (imported on edge runtimes too) loads nothing.
// `activeTelemetry()` is `undefined` unless a worker started an SDK; then a request costs one test.

/** The figures of one API that its spans and metrics carry. */
export interface TracedApi {
  service: string
  name: string
  method: string
  route: string
}

/** One call to another service, as a client span. */
export interface TracedCall {
  /** The `traceparent` to send, naming this call's span as the callee's parent. */
  readonly traceparent: string
  /** Ends the span: the callee's HTTP status, or `error` / `timeout`. */
  end(outcome: number | string, seconds: number): void
}

/** One request, as a server span (and a handler span under it). */
export interface TracedRequest {
  /** The request's trace id (32 hex digits), returned in `x-trace-id`. */
  readonly traceId: string
  /** Runs the handler under a span of its own, current for any span the handler starts. */
  handle<T>(run: () => T): T
  /** Starts a client span for a call to `callee`'s `api`, under the current span. */
  call(callee: string, api: { name: string; method: string; route: string }): TracedCall
  /** Ends the server span with the response's status. */
  end(status: number, error?: unknown): void
}

/** A worker's telemetry: spans and metrics for the adapter, flushed on shutdown. */
export interface Telemetry {
  /** Starts the server span of `request` to `api`, as a child of its `traceparent` if it has one. */
  /**
   * Starts a request's spans; `local` for a call that came as frames or in-process, where no
   * server (Deno.serve's own span) is around it.
   */
  request(request: Pick<Request, 'headers' | 'url'>, api: TracedApi, local?: boolean): TracedRequest
  /** Runs one batch of `api` under a span linked to each request it serves. */
  batch<T>(api: TracedApi, requests: ReadonlyArray<TracedRequest | undefined>, run: () => T): T
  /** Exports what is left, within `ms`. */
  shutdown(ms: number): Promise<void>
}

let active: Telemetry | undefined

/**
 * The worker's telemetry, or `undefined` when none is configured.
 * @example
 * const traced = activeTelemetry()?.request(c.req.raw, api)
 */
export function activeTelemetry(): Telemetry | undefined {
  return active
}

/**
 * Makes `telemetry` the worker's (`undefined` turns it off).
 */
export function setTelemetry(telemetry: Telemetry | undefined): void {
  active = telemetry
}
