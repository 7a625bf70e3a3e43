// `toHono`: a service as a Hono app. Routes are registered in an order that matters when the app is
// mounted into another: the health checks, CORS and the bearer token, then the APIs, then the
// other operational routes, then a `405` for each API route hit with another method, and last a
// catch-all `404`, so that unknown paths under the mount point still get JSON (Hono's `route()`
// carries routes over, not `notFound`).
import type { NormalizedApi, Service } from '@bento/core'
import {
  accessLog,
  activeTelemetry,
  callInProcess,
  markServed,
  STREAM_JSON_HEADER,
  TIMEOUT_HEADER,
  type TracedApi,
  validate,
} from '@bento/core/adapter'
import { type Context, Hono } from 'hono'
import { logAccess, logged, utf8Length } from './access.ts'
import { bearerGuard, corsFor } from './auth.ts'
import { Call, HandlerContext } from './context.ts'
import { createDispatch, type Dispatch } from './dispatch.ts'
import { docsRoutes } from './docs.ts'
import {
  describeError,
  type ErrorHandling,
  errorResponse,
  flattenIssues,
  invalidInput,
  jsonResponse,
  ResponseError,
} from './errors.ts'
import { healthRoutes, metricsRoute } from './health.ts'
import { hasBinary, toJsonSchema } from './json-schema.ts'
import type { ApiMetrics } from './metrics.ts'
import { type ResolvedOptions, resolveOptions, type ToHonoOptions } from './options.ts'
import {
  clientClosed,
  type InputLimits,
  inputError,
  readInput,
  refusedRequest,
  requestIdOf,
} from './request.ts'
import { type ServiceState, stateOf } from './state.ts'
import { closeIterator, isAsyncIterable, streamBody } from './stream.ts'
import { acquire, bodyTimedOut, withTimeout } from './traffic.ts'

/**
 * A Hono app serving `service`: each API at its route, `/livez`, `/healthz`, `/readyz`,
 * `/metrics`, the OpenAPI document at `/docs.json` and Swagger UI at `/`. Use it as the default
 * export on Bun, Deno and Cloudflare Workers, with `serve()` from @hono/node-server on Node, or
 * mount it: `app.route('/ml', toHono(service))`.
 * @example
 * import { toHono } from '@bento/hono'
 * import service from './service.ts'
 *
 * export default toHono(service)
 */
export function toHono<State>(service: Service<State>, options?: ToHonoOptions): Hono {
  const settings = resolveOptions(options)
  // A worker serving an app entry learns from this which services the app mounts.
  markServed(service as Service<unknown>)
  return build(service as Service<unknown>, settings)
}

// Asked for: the services this one calls, each with an app of its own in this process (made on
// its first call), and so on down the graph.
function inProcess(service: Service<unknown>, settings: ResolvedOptions): void {
  for (const { service: callee, url } of Object.values(service.depends)) {
    if (url !== undefined) continue
    let app: Hono | undefined
    callInProcess(service, callee.name, (request) => {
      app ??= build(callee as Service<unknown>, { ...settings, docs: false })
      return app.fetch(request)
    })
  }
}

function build(service: Service<unknown>, settings: ResolvedOptions): Hono {
  if (settings.dependencies === 'in-process') inProcess(service, settings)
  const state = stateOf(service as Service<unknown>)
  const app = new Hono()
  const { expose } = service.settings

  // Health checks first: probes need neither CORS nor a token. Then CORS, whose preflights carry
  // no token, then the token for everything else.
  if (settings.health) healthRoutes(app, state)
  const allowCors = corsFor(service)
  if (allowCors !== undefined) app.use('*', allowCors)
  const guard = bearerGuard(service)
  if (guard !== undefined) app.use('*', guard)
  const methodsByRoute = new Map<string, string[]>()
  for (const api of service.apis) {
    app.on(api.method, api.route, apiHandler(api, state, settings))
    methodsByRoute.set(api.route, [...(methodsByRoute.get(api.route) ?? []), api.method])
  }
  if (settings.metrics ?? expose.metrics) metricsRoute(app, state)
  if (settings.docs ?? expose.docs) docsRoutes(app, service as Service<unknown>, settings)

  for (const [route, methods] of methodsByRoute) {
    const allow = (methods.includes('GET') ? [...methods, 'HEAD'] : methods).join(', ')
    app.all(route, (c) => {
      const requestId = requestIdOf(c)
      const error = `${c.req.method} is not allowed on ${c.req.path}; use ${allow}`
      return logged(
        c,
        route,
        jsonResponse(c, { error, requestId }, 405, { allow, 'x-request-id': requestId }),
        requestId
      )
    })
  }
  const notFound = (c: Context) => {
    const requestId = requestIdOf(c)
    const error = `no route ${c.req.method} ${c.req.path}`
    return logged(
      c,
      c.req.path,
      jsonResponse(c, { error, requestId }, 404, { 'x-request-id': requestId }),
      requestId
    )
  }
  app.all('*', notFound)
  app.notFound(notFound)
  return app
}

/** What the handler of one API needs for every request, computed once. */
interface ApiPlan {
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

function apiHandler(api: NormalizedApi, state: ServiceState, settings: ResolvedOptions) {
  const metrics = state.metrics.apis.get(api.name)!
  const traced = {
    service: state.service.name,
    name: api.name,
    method: api.method,
    route: api.route,
  }
  const plan: ApiPlan = {
    api,
    traced,
    state,
    metrics,
    dispatch: createDispatch(api, state.service, metrics, traced),
    timeout: state.service.settings.traffic.timeout,
    limits: inputLimits(api, state.service, settings),
    how: { dev: settings.dev, api: api.name, onError: settings.onError },
    checkOutput: settings.dev && api.output !== undefined ? outputChecker(api) : undefined,
  }
  const { lifecycle, limiter } = state
  const svc = state.service
  const { timeout, limits, how } = plan
  const schema = api.input?.['~standard']
  const batchable = api.batchable === true
  // One async function per request (no helper awaited in between): on a fast handler the
  // adapter's own promises and allocations are most of what it adds to a hand-written route.
  return async (c: Context): Promise<Response> => {
    const requestId = requestIdOf(c)
    const traced = activeTelemetry()?.request(c.req.raw, plan.traced)
    const call = new Call(
      requestId,
      c.req.raw,
      state,
      metrics,
      timeoutOf(c.req.raw, timeout),
      traced
    )
    let response: Response
    let failure: unknown
    try {
      const refused = refusedRequest(c.req.raw.headers)
      if (refused !== undefined) throw refused
      let input: unknown
      try {
        input = readInput(c, api.method, limits)
        // A body still arriving is bounded by the request's timeout: a client trickling it in
        // gets 408 rather than holding the worker for as long as it likes.
        if (input instanceof Promise) {
          input = await withTimeout(input, call.left(), () => {}, call.timeout, bodyTimedOut)
        }
      } catch (error) {
        throw inputError(error, c.req.raw)
      }
      if (schema !== undefined) {
        let result = schema.validate(input)
        if (result instanceof Promise) result = await result
        if (result.issues !== undefined) throw invalidInput(flattenIssues(result.issues))
        input = result.value
      }
      const state = lifecycle.started ? lifecycle.state : await lifecycle.start()
      const ctx = new HandlerContext(lifecycle.worker, state, c.req.raw.headers, call, svc)

      if (limiter !== undefined) {
        if (!limiter.tryAcquire()) {
          await acquire(limiter, call.left(), c.req.raw.signal, call.timeout)
        }
        call.takePermit()
      }

      // From here the handler's settling frees the call, not this request's answer.
      call.handedOver = true
      let output: unknown
      try {
        output =
          traced === undefined
            ? plan.dispatch(input, ctx)
            : // Only the batcher takes the request's spans (to link them); a handler never sees them.
              traced.handle(() => plan.dispatch(input, ctx, batchable ? traced : undefined))
      } catch (error) {
        call.finish()
        throw error
      }
      if (output instanceof Promise) {
        let timedOut = false
        output.then((value) => {
          if (!isAsyncIterable(value)) call.finish()
          // A stream nobody will read: close it so its `finally` runs, then free the permit.
          else if (timedOut) closeIterator(value[Symbol.asyncIterator]()).then(call.finisher)
        }, call.finisher)
        output = await deadline(output, call, () => {
          timedOut = true
        })
      } else if (!isAsyncIterable(output)) {
        call.finish()
      }

      if (isAsyncIterable(output)) response = await stream(c, output, call, plan)
      else {
        if (plan.checkOutput !== undefined) output = await plan.checkOutput(output)
        response = respond(c, output, requestId)
      }
    } catch (error) {
      if (!call.handedOver) call.finish()
      failure = error
      response = errorResponse(c, unlessGone(error, c.req.raw), requestId, how)
    }
    const seconds = (performance.now() - call.arrived) / 1000
    metrics.done(response.status, seconds)
    if (traced !== undefined) {
      response.headers.set('x-trace-id', traced.traceId)
      traced.end(response.status, failure)
    }
    const log = accessLog()
    if (log !== undefined) logAccess(log, c, api.route, response, seconds, requestId, traced)
    return response
  }
}

// What a request to `api` may send. Forms only where the API asked for them or its input has a
// file (read from its JSON Schema, once, when the first form arrives).
function inputLimits(
  api: NormalizedApi,
  service: Service<unknown>,
  settings: ResolvedOptions
): InputLimits {
  let forms: boolean | Promise<boolean> | undefined = api.forms
  return {
    bodyLimit: settings.bodyLimit ?? service.settings.http.bodyLimit,
    maxDepth: settings.maxJsonDepth,
    maxFormFields: service.settings.http.maxFormFields,
    get forms() {
      forms ??=
        api.input === undefined
          ? false
          : toJsonSchema(api.input, 'input', settings.toJsonSchema).then(hasBinary, () => false)
      return forms
    },
  }
}

// A handler that fails because its client left (it passed ctx.signal to a fetch, say) did not hit
// a bug: that is a 499, not a 500. Statuses a handler chose itself stand.
function unlessGone(error: unknown, request: Request): unknown {
  if (!request.signal.aborted) return error
  const status = (error as { status?: unknown } | null)?.status
  return typeof status === 'number' ? error : clientClosed()
}

// A service calling this one sends the time it has left: this request gets no more than that.
function timeoutOf(request: Request, timeout: number): number {
  const header = request.headers.get(TIMEOUT_HEADER)
  if (header === null) return timeout
  const ms = Number(header)
  return Number.isFinite(ms) && ms >= 0 ? Math.min(timeout, ms / 1000) : timeout
}

/** `work`, or a `504` once the request's time is up, aborting the handler's signal. */
function deadline<T>(work: Promise<T>, call: Call, onTimeout: () => void): Promise<T> {
  return withTimeout(
    work,
    call.left(),
    () => {
      onTimeout()
      call.abort(new DOMException(`the request timed out after ${call.timeout} s`, 'TimeoutError'))
    },
    call.timeout
  )
}

async function stream(
  c: Context,
  iterable: AsyncIterable<unknown>,
  call: Call,
  plan: ApiPlan
): Promise<Response> {
  const { requestId } = call
  const iterator = iterable[Symbol.asyncIterator]()
  // The first chunk is awaited before answering, under the timeout: an error thrown before it
  // (an HttpError, say) still gets its own status instead of an error event in a 200 stream.
  let first: IteratorResult<unknown>
  let timedOut = false
  const pending = iterator.next()
  try {
    first = await deadline(pending, call, () => {
      timedOut = true
    })
  } catch (error) {
    if (timedOut) {
      pending
        .then(
          () => closeIterator(iterator),
          () => {}
        )
        .then(call.finisher)
    } else call.finish()
    throw error
  }
  if (c.req.raw.method === 'HEAD') {
    // Hono answers HEAD with the GET handler's headers and drops the body unread, which would
    // leave the handler suspended (and its permit taken) for good: close it now.
    await closeIterator(iterator)
    call.finish()
    const mode =
      plan.api.stream === 'sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8'
    return c.body(null, 200, { 'content-type': mode, 'x-request-id': requestId })
  }
  const { body, headers } = streamBody(iterator, first, {
    mode: plan.api.stream,
    json: c.req.raw.headers.get(STREAM_JSON_HEADER) === 'json',
    check: plan.checkOutput,
    errorEvent: (error) => describeError(error, requestId, plan.how).body,
    abort: (reason) => call.abort(reason),
    end: call.finisher,
  })
  return c.body(body, 200, { ...headers, 'x-request-id': requestId })
}

function respond(c: Context, output: unknown, requestId: string): Response {
  if (output instanceof Response) {
    // A handler's own Response may have immutable headers (one from fetch, say).
    const response = new Response(output.body, output)
    response.headers.set('x-request-id', requestId)
    return response
  }
  if (output instanceof Blob) {
    const type = output.type || 'application/octet-stream'
    return c.body(output.stream(), 200, { 'content-type': type, 'x-request-id': requestId })
  }
  if (output instanceof ArrayBuffer || ArrayBuffer.isView(output)) {
    const bytes =
      output instanceof ArrayBuffer
        ? new Uint8Array(output)
        : new Uint8Array(output.buffer, output.byteOffset, output.byteLength)
    return c.body(bytes as Uint8Array<ArrayBuffer>, 200, {
      'content-type': 'application/octet-stream',
      'x-request-id': requestId,
    })
  }
  if (accessLog() !== undefined) {
    // The access line reports the body's size: made here, it is known and sent as content-length.
    const text = JSON.stringify(output ?? null)
    return c.body(text, 200, {
      'content-type': 'application/json',
      'content-length': String(utf8Length(text)),
      'x-request-id': requestId,
    })
  }
  // Setting the header on the finished response is cheaper than handing Hono a second header
  // (which builds an extra Headers object per request).
  const response = c.json((output ?? null) as object)
  response.headers.set('x-request-id', requestId)
  return response
}

// In development an output that breaks its schema is a bug in the handler: a 500 that names the
// API and lists the issues, rather than a client failing later on a malformed answer.
function outputChecker(api: NormalizedApi) {
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
