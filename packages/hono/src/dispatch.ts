// The one place an API's handler is called. A batchable handler takes an array of inputs; until
// adaptive batching lands each request is sent as a batch of one. The batcher replaces
// `createDispatch`'s batchable branch and nothing else changes: it resolves each request with its
// own output and reports the batch sizes it formed.
import type { ApiContext, NormalizedApi } from '@bento/core'
import type { ApiMetrics } from './metrics.ts'

/** Calls an API with one request's input; returns its output or a promise of it. */
export type Dispatch = (input: unknown, ctx: ApiContext) => unknown

/**
 * The dispatch function of `api`: its handler for a single API, a batch of one for a batchable one.
 * @example
 * const dispatch = createDispatch(api, metrics)
 * const output = await dispatch({ text: 'hi' }, ctx)
 */
export function createDispatch(api: NormalizedApi, metrics: ApiMetrics): Dispatch {
  if (api.batchable !== true) {
    const handler = api.handler as (input: unknown, ctx: ApiContext) => unknown
    return handler
  }
  const handler = api.handler as (inputs: unknown[], ctx: ApiContext) => unknown
  const first = (outputs: unknown): unknown => {
    if (!Array.isArray(outputs) || outputs.length !== 1) {
      const got = Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs
      throw new TypeError(
        `batchable API "${api.name}" must return one output per input, in order; it got 1 input and returned ${got}`
      )
    }
    return outputs[0]
  }
  return (input, ctx) => {
    metrics.batch?.observe(1)
    const outputs = handler([input], ctx)
    return outputs instanceof Promise ? outputs.then(first) : first(outputs)
  }
}
