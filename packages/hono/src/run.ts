// The steps of one call to an API, whatever carried it (an HTTP request, frames from another
// worker, a call in this process): the deadline, the input read and validated, the service
// started, the concurrency permit, the handler under its timeout, a stream's first chunk, the
// output checked in development, and any failure described. The carrier turns what this returns
// into its own answer, then calls `settle` (metrics, the trace, the access line).
import type { NormalizedApi } from '@bento/core'
import {
  accessLog,
  activeTelemetry,
  type TracedApi,
  type TracedRequest,
  validate,
} from '@bento/core/adapter'
import { traceIdOf } from './access.ts'
import { HandlerContext, InFlight } from './context.ts'
import type { Dispatch } from './dispatch.ts'
import {
  describeError,
  type ErrorBody,
  type ErrorHandling,
  flattenIssues,
  invalidInput,
  ResponseError,
} from './errors.ts'
import type { ApiMetrics } from './metrics.ts'
import { clientClosed, type InputLimits, inputError } from './request.ts'
import type { ServiceState } from './state.ts'
import { chunkSource, closeIterator, isAsyncIterable } from './stream.ts'
import { acquire, bodyTimedOut, withTimeout } from './traffic.ts'

/** What the steps of one API need for every call, computed once. */
export interface ApiPlan {
  api: NormalizedApi
  traced: TracedApi
  state: ServiceState
  metrics: ApiMetrics
  dispatch: Dispatch
  /** `traffic.timeout` in seconds. */
  timeout: number
  limits: InputLimits
  how: ErrorHandling
  checkOutput: ((output: unknown) => Promise<unknown>) | undefined
}

/** One call as its carrier received it. */
export interface Incoming {
  readonly requestId: string
  /** The headers the handler sees as `ctx.headers`. */
  readonly headers: Headers
  /** The request's own signal (its client left), read only when needed. */
  readonly signal: AbortSignal
  /** For the request's span: its headers and URL. */
  readonly source: Pick<Request, 'headers' | 'url'>
  /** Set for a call that came as frames or in-process. */
  readonly local: boolean
  /** The caller's remaining milliseconds (`bento-timeout`), if it sent them. */
  readonly deadlineMs: number | undefined
  /** What the carrier refuses before anything is read (malformed HTTP framing). */
  readonly refused: ResponseError | undefined
  /** Reads the input within `limits`; throws (or rejects) for what can't be read. */
  input(limits: InputLimits): unknown
}

/** What a call came to: an output, a stream whose first chunk is in, or a described failure. */
export type Ran =
  | { kind: 'output'; output: unknown; inFlight: InFlight; traced: TracedRequest | undefined }
  | {
      kind: 'stream'
      iterator: AsyncIterator<unknown>
      first: IteratorResult<unknown>
      inFlight: InFlight
      traced: TracedRequest | undefined
    }
  | {
      kind: 'error'
      status: number
      body: ErrorBody
      headers: Record<string, string>
      failure: unknown
      inFlight: InFlight
      traced: TracedRequest | undefined
    }

/**
 * Runs one call to the API of `plan` (see the module comment).
 * @example
 * const ran = await runApi(plan, incoming)
 */
export async function runApi(plan: ApiPlan, incoming: Incoming): Promise<Ran> {
  const { api, state, metrics, limits, how } = plan
  const { lifecycle, limiter } = state
  const requestId = incoming.requestId
  const traced = activeTelemetry()?.request(incoming.source, plan.traced, incoming.local)
  const inFlight = new InFlight(
    requestId,
    incoming,
    state,
    metrics,
    incoming.deadlineMs === undefined
      ? plan.timeout
      : Math.min(plan.timeout, incoming.deadlineMs / 1000),
    traced
  )
  try {
    if (incoming.refused !== undefined) throw incoming.refused
    let input: unknown
    try {
      input = incoming.input(limits)
      // A body still arriving is bounded by the request's timeout: a client trickling it in
      // gets 408 rather than holding the worker for as long as it likes.
      if (input instanceof Promise) {
        input = await withTimeout(input, inFlight.left(), () => {}, inFlight.timeout, bodyTimedOut)
      }
    } catch (error) {
      throw inputError(error, incoming)
    }
    const schema = api.input?.['~standard']
    if (schema !== undefined) {
      let result = schema.validate(input)
      if (result instanceof Promise) result = await result
      if (result.issues !== undefined) throw invalidInput(flattenIssues(result.issues))
      input = result.value
    }
    const serviceState = lifecycle.started ? lifecycle.state : await lifecycle.start()
    const ctx = new HandlerContext(
      lifecycle.worker,
      serviceState,
      incoming,
      inFlight,
      state.service
    )

    if (limiter !== undefined) {
      if (!limiter.tryAcquire()) {
        await acquire(limiter, inFlight.left(), incoming.signal, inFlight.timeout)
      }
      inFlight.takePermit()
    }

    // From here the handler's settling frees the call, not this request's answer.
    inFlight.handedOver = true
    let output: unknown
    try {
      output =
        traced === undefined
          ? plan.dispatch(input, ctx)
          : // Only the batcher takes the request's spans (to link them); a handler never sees them.
            traced.handle(() =>
              plan.dispatch(input, ctx, api.batchable === true ? traced : undefined)
            )
    } catch (error) {
      inFlight.finish()
      throw error
    }
    if (output instanceof Promise) {
      let timedOut = false
      output.then((value) => {
        if (!isAsyncIterable(value)) inFlight.finish()
        // A stream nobody will read: close it so its `finally` runs, then free the permit.
        else if (timedOut) closeIterator(value[Symbol.asyncIterator]()).then(inFlight.finisher)
      }, inFlight.finisher)
      output = await deadline(output, inFlight, () => {
        timedOut = true
      })
    } else if (!isAsyncIterable(output)) {
      inFlight.finish()
    }
    if (isAsyncIterable(output)) return await firstChunk(output, inFlight, traced)
    if (plan.checkOutput !== undefined) output = await plan.checkOutput(output)
    return { kind: 'output', output, inFlight, traced }
  } catch (error) {
    if (!inFlight.handedOver) inFlight.finish()
    const { status, body, headers } = describeError(unlessGone(error, incoming), requestId, how)
    return { kind: 'error', status, body, headers, failure: error, inFlight, traced }
  }
}

// The first chunk is awaited before answering, under the timeout: an error thrown before it (an
// HttpError, say) still gets its own status instead of an error event in a 200 stream.
async function firstChunk(
  iterable: AsyncIterable<unknown>,
  inFlight: InFlight,
  traced: TracedRequest | undefined
): Promise<Ran> {
  const iterator = iterable[Symbol.asyncIterator]()
  let timedOut = false
  const pending = iterator.next()
  try {
    const first = await deadline(pending, inFlight, () => {
      timedOut = true
    })
    return { kind: 'stream', iterator, first, inFlight, traced }
  } catch (error) {
    if (timedOut) {
      pending
        .then(
          () => closeIterator(iterator),
          () => {}
        )
        .then(inFlight.finisher)
    } else inFlight.finish()
    throw error
  }
}

/**
 * Records the end of a call: its status in the API's metrics, its span, and its access line.
 * @example
 * settle(plan, ran, response.status, { method: 'POST', bytes: 17, source: c.req.raw })
 */
export function settle(
  plan: ApiPlan,
  ran: Ran,
  status: number,
  line: { method: string; bytes: number | undefined; source: Pick<Request, 'headers'> }
): void {
  const seconds = (performance.now() - ran.inFlight.arrived) / 1000
  plan.metrics.done(status, seconds)
  ran.traced?.end(status, ran.kind === 'error' ? ran.failure : undefined)
  const log = accessLog()
  if (log === undefined) return
  log.add({
    method: line.method,
    route: plan.api.route,
    status,
    durationMs: seconds * 1000,
    bytes: line.bytes,
    requestId: ran.inFlight.requestId,
    traceId: ran.traced?.traceId ?? traceIdOf(line.source),
  })
}

// A handler that fails because its client left (it passed ctx.signal to a fetch, say) did not hit
// a bug: that is a 499, not a 500. Statuses a handler chose itself stand.
function unlessGone(error: unknown, request: { readonly signal: AbortSignal }): unknown {
  if (!request.signal.aborted) return error
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? error : clientClosed()
}

/** `work`, or a `504` once the request's time is up, aborting the handler's signal. */
function deadline<T>(work: Promise<T>, inFlight: InFlight, onTimeout: () => void): Promise<T> {
  return withTimeout(
    work,
    inFlight.left(),
    () => {
      onTimeout()
      inFlight.abort(
        new DOMException(`the request timed out after ${inFlight.timeout} s`, 'TimeoutError')
      )
    },
    inFlight.timeout
  )
}

/**
 * In development an output that breaks its schema is a bug in the handler: a 500 that names the
 * API and lists the issues, rather than a client failing later on a malformed answer.
 * @example
 * const check = outputChecker(api)
 */
export function outputChecker(api: NormalizedApi) {
  const schema = api.output!
  return async (output: unknown): Promise<unknown> => {
    if (output instanceof Response || output instanceof Blob) return output
    const result = await validate(schema, output)
    // The output is sent as the handler made it, never as the schema transformed it: development
    // and production must answer the same.
    if (result.ok) return output
    throw new ResponseError(
      500,
      `the output of API "${api.name}" does not match its output schema`,
      {
        issues: result.issues,
      }
    )
  }
}

/**
 * The chunks of a stream that `runApi` began, pulled one at a time.
 * @example
 * const source = streamSource(ran, plan)
 */
export function streamSource(
  ran: Extract<Ran, { kind: 'stream' }>,
  plan: ApiPlan
): ReturnType<typeof chunkSource> {
  const { iterator, first, inFlight } = ran
  return chunkSource(iterator, first, {
    mode: plan.api.stream === 'sse' ? 'sse' : 'text',
    check: plan.checkOutput,
    errorEvent: (error) => describeError(error, inFlight.requestId, plan.how).body,
    abort: (reason) => inFlight.abort(reason),
    end: inFlight.finisher,
  })
}
