// The one place an API's handler is called. A batchable API's requests go through core's adaptive
// Batcher: requests that reach this worker together are grouped, the handler gets their inputs as
// one array, and each request gets its own output back (or the batch's error, or a quick 503 when
// it can't be answered within maxLatencyMs).
import type { ApiContext, BatchContext, NormalizedApi, Service } from '@bento/core'
import {
  activeTelemetry,
  Batcher,
  dependsFor,
  type TracedApi,
  type TracedRequest,
} from '@bento/core/adapter'
import { HandlerContext } from './context.ts'
import type { ApiMetrics } from './metrics.ts'

/**
 * Calls an API with one request's input; returns its output or a promise of it. `traced` is the
 * request's spans, when tracing is on (a batch links to each of its requests').
 */
export type Dispatch = (input: unknown, ctx: ApiContext, traced?: TracedRequest) => unknown

interface Item {
  input: unknown
  ctx: ApiContext
  traced: TracedRequest | undefined
}

/**
 * The dispatch function of `api`: its handler for a single API, a batcher for a batchable one.
 * @example
 * const dispatch = createDispatch(api, service, metrics, traced)
 * const output = await dispatch({ text: 'hi' }, ctx)
 */
export function createDispatch(
  api: NormalizedApi,
  service: Service,
  metrics: ApiMetrics,
  traced: TracedApi
): Dispatch {
  if (api.batchable !== true) {
    const handler = api.handler as (input: unknown, ctx: ApiContext) => unknown
    return handler
  }
  const handler = api.handler as (inputs: unknown[], ctx: BatchContext) => unknown
  // A batchable API's limits come with their defaults from core's normalization (DEFAULTS.batch).
  const batcher = new Batcher<Item, unknown>({
    maxBatchSize: api.maxBatchSize!,
    maxLatencyMs: api.maxLatencyMs!,
    run: async (items) => {
      const run = () =>
        handler(
          items.map((item) => item.input),
          batchContext(items, service)
        ) as unknown[]
      const telemetry = activeTelemetry()
      if (telemetry === undefined) return run()
      return telemetry.batch(
        traced,
        items.map((item) => item.traced),
        run
      )
    },
    onBatch: ({ size, waitsMs }) => {
      metrics.batch?.observe(size)
      for (const wait of waitsMs) metrics.batchWait?.observe(wait / 1000)
    },
  })
  return (input, ctx, traced) => batcher.submit({ input, ctx, traced }, ctx.signal)
}

/**
 * The context a batch handler gets (`BatchContext`): the worker's (index, state, GPUs) with the
 * first request's id and headers; a signal that aborts only once every request of the batch has
 * gone; `depends` calls bound to that signal and to the longest deadline of the requests still
 * there, so that a request that leaves or asks for a short deadline loses only its own item; and
 * each request's own id, headers and signal in `items`.
 */
function batchContext(items: Item[], service: Service): BatchContext {
  const first = items[0]!.ctx
  const controller = new AbortController()
  let gone = 0
  for (const { ctx } of items) {
    const onAbort = () => {
      gone++
      if (gone === items.length) controller.abort(ctx.signal.reason)
    }
    if (ctx.signal.aborted) onAbort()
    else ctx.signal.addEventListener('abort', onAbort, { once: true })
  }
  const remainingMs = () => {
    let most = 0
    for (const { ctx } of items) {
      if (ctx.signal.aborted) continue
      most = Math.max(most, ctx instanceof HandlerContext ? ctx.remainingMs() : Infinity)
    }
    return most
  }
  let depends: ApiContext['depends'] | undefined
  return {
    workerIndex: first.workerIndex,
    workerCount: first.workerCount,
    gpus: first.gpus,
    threads: first.threads,
    state: first.state,
    requestId: first.requestId,
    headers: first.headers,
    signal: controller.signal,
    get depends() {
      depends ??= dependsFor(service, {
        signal: controller.signal,
        remainingMs,
        requestId: first.requestId,
        headers: first.headers,
        traced: first instanceof HandlerContext ? first.traced : undefined,
      }) as ApiContext['depends']
      return depends
    },
    items: items.map(({ ctx }) => ({
      requestId: ctx.requestId,
      headers: ctx.headers,
      signal: ctx.signal,
    })),
  }
}
