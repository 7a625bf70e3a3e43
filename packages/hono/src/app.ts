// `toHono`: a service as a Hono app. Routes are registered in an order that matters when the app is
// mounted into another: the health checks, CORS and the bearer token, then the APIs, then the
// other operational routes, then a `405` for each API route hit with another method, and last a
// catch-all `404`, so that unknown paths under the mount point still get JSON (Hono's `route()`
// carries routes over, not `notFound`).
import type { NormalizedApi, Service } from '@bento/core'
import {
  accessLog,
  callInProcess,
  type LocalApi,
  markServed,
  READY_API,
  registerLocalApis,
  STREAM_JSON_HEADER,
  TIMEOUT_HEADER,
} from '@bento/core/adapter'
import { type Context, Hono } from 'hono'
import { logged, utf8Length } from './access.ts'
import { bearerGuard, corsFor } from './auth.ts'
import { createDispatch } from './dispatch.ts'
import { docsRoutes } from './docs.ts'
import { describeError, jsonResponse, type ResponseError } from './errors.ts'
import { healthRoutes, metricsRoute, readyApi } from './health.ts'
import { hasBinary, toJsonSchema } from './json-schema.ts'
import { localApi } from './local.ts'
import { type ResolvedOptions, resolveOptions, type ToHonoOptions } from './options.ts'
import {
  bodyInPacket,
  fromNodeServer,
  type InputLimits,
  readInput,
  refusedRequest,
  requestIdOf,
} from './request.ts'
import {
  type ApiPlan,
  type Incoming,
  outputChecker,
  type Ran,
  runApi,
  settle,
  streamSource,
} from './run.ts'
import { type ServiceState, stateOf } from './state.ts'
import { closeIterator, streamBody } from './stream.ts'

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
  const { app, apis } = build(service as Service<unknown>, settings)
  registerLocalApis(service.name, apis)
  return app
}

// Asked for: the services this one calls, each with an app of its own in this process (made on
// its first call), and so on down the graph.
function inProcess(service: Service<unknown>, settings: ResolvedOptions): void {
  for (const { service: callee, url } of Object.values(service.depends)) {
    if (url !== undefined) continue
    let apis: ReadonlyMap<string, LocalApi> | undefined
    callInProcess(service, callee.name, () => {
      apis ??= build(callee as Service<unknown>, { ...settings, docs: false }).apis
      return apis
    })
  }
}

// The service's app, and its APIs as local APIs (the same steps, metrics and batchers: a batch may
// hold requests that came over HTTP and calls that came as frames).
function build(
  service: Service<unknown>,
  settings: ResolvedOptions
): { app: Hono; apis: Map<string, LocalApi> } {
  if (settings.dependencies === 'in-process') inProcess(service, settings)
  const state = stateOf(service as Service<unknown>)
  const app = new Hono()
  const { expose } = service.settings
  const own = ownRequests(app)

  // Health checks first: probes need neither CORS nor a token. Then CORS, whose preflights carry
  // no token, then the token for everything else.
  const apis = new Map<string, LocalApi>()
  if (settings.health) {
    healthRoutes(app, state)
    apis.set(READY_API, readyApi(state))
  }
  const allowCors = corsFor(service)
  if (allowCors !== undefined) app.use('*', allowCors)
  const guard = bearerGuard(service)
  if (guard !== undefined) app.use('*', guard)
  const methodsByRoute = new Map<string, string[]>()
  for (const api of service.apis) {
    const plan = apiPlan(api, state, settings)
    app.on(api.method, api.route, apiHandler(plan, own))
    apis.set(api.name, localApi(plan))
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
  return { app, apis }
}

/** The steps of one API, computed once for all its calls (run.ts). */
function apiPlan(api: NormalizedApi, state: ServiceState, settings: ResolvedOptions): ApiPlan {
  const metrics = state.metrics.apis.get(api.name)!
  const traced = {
    service: state.service.name,
    name: api.name,
    method: api.method,
    route: api.route,
  }
  return {
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
}

// An HTTP request as run.ts takes a call. Its signal is read only when needed: on Node, reading it
// makes @hono/node-server build a whole web Request.
class HttpIncoming implements Incoming {
  readonly requestId: string
  readonly local = false
  readonly refused: ResponseError | undefined
  readonly deadlineMs: number | undefined
  constructor(
    private readonly c: Context,
    private readonly method: string
  ) {
    this.requestId = requestIdOf(c)
    const headers = c.req.raw.headers
    this.refused = refusedRequest(headers)
    this.deadlineMs = deadlineOf(headers.get(TIMEOUT_HEADER))
  }
  get headers(): Headers {
    return this.c.req.raw.headers
  }
  get signal(): AbortSignal {
    return this.c.req.raw.signal
  }
  get source(): Request {
    return this.c.req.raw
  }
  input(limits: InputLimits): unknown {
    return readInput(this.c, this.method, limits)
  }
}

// The requests that came through this app's own `fetch`, not through an app it is mounted in: no
// middleware of someone else's ran before them, so none left headers for Hono to add (`c.header()`
// before `next()`), and their answers may be made without Hono's context (see `respond`).
function ownRequests(app: Hono): WeakSet<Request> {
  const own = new WeakSet<Request>()
  const fetch = app.fetch
  app.fetch = (request, ...rest) => {
    own.add(request)
    return fetch(request, ...rest)
  }
  return own
}

function apiHandler(plan: ApiPlan, own: WeakSet<Request>) {
  const api = plan.api
  return async (c: Context): Promise<Response> => {
    if (api.method !== 'GET' && bodyInPacket(c)) await undefined
    const ran = await runApi(plan, new HttpIncoming(c, api.method))
    const { requestId } = ran.inFlight
    const traceId = ran.traced?.traceId
    let answer: Answer
    if (ran.kind === 'output') {
      try {
        answer = respond(c, ran.output, requestId, traceId, own.has(c.req.raw))
      } catch (error) {
        // An output that can't be sent (a cycle, a BigInt): the handler's bug, said as a 500.
        const failed = describeError(error, requestId, plan.how)
        answer = { response: jsonResponse(c, failed.body, failed.status, failed.headers) }
      }
    } else if (ran.kind === 'stream') answer = { response: await stream(c, ran, plan) }
    else answer = { response: jsonResponse(c, ran.body, ran.status, ran.headers) }
    const { response } = answer
    if (traceId !== undefined && !answer.tracedHeader) response.headers.set('x-trace-id', traceId)
    let bytes = answer.bytes
    if (bytes === undefined && accessLog() !== undefined) {
      const length = response.headers.get('content-length')
      if (length !== null) bytes = Number(length)
    }
    settle(plan, ran, response.status, { method: c.req.method, bytes, source: c.req.raw })
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

// The caller's remaining milliseconds, from `bento-timeout`; anything else is no deadline.
function deadlineOf(header: string | null): number | undefined {
  if (header === null) return undefined
  const ms = Number(header)
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}

async function stream(
  c: Context,
  ran: Extract<Ran, { kind: 'stream' }>,
  plan: ApiPlan
): Promise<Response> {
  const { iterator, first, inFlight } = ran
  const { requestId } = inFlight
  if (c.req.raw.method === 'HEAD') {
    // Hono answers HEAD with the GET handler's headers and drops the body unread, which would
    // leave the handler suspended (and its permit taken) for good: close it now.
    await closeIterator(iterator)
    inFlight.finish()
    const mode =
      plan.api.stream === 'sse' ? 'text/event-stream; charset=utf-8' : 'text/plain; charset=utf-8'
    return c.body(null, 200, { 'content-type': mode, 'x-request-id': requestId })
  }
  const mode = plan.api.stream === 'sse' ? 'sse' : 'text'
  const source = streamSource(ran, plan)
  const json = c.req.raw.headers.get(STREAM_JSON_HEADER) === 'json'
  const { body, headers } = streamBody(source, first, mode, json)
  return c.body(body, 200, { ...headers, 'x-request-id': requestId })
}

/** An answer to an API call, with what the access line and the trace need to know of it. */
interface Answer {
  response: Response
  /** The body's size, when known without reading the headers. */
  bytes?: number
  /** True when it carries `x-trace-id` already. */
  tracedHeader?: boolean
}

function respond(
  c: Context,
  output: unknown,
  requestId: string,
  traceId: string | undefined,
  own: boolean
): Answer {
  if (output instanceof Response) {
    // A handler's own Response may have immutable headers (one from fetch, say).
    const response = new Response(output.body, output)
    response.headers.set('x-request-id', requestId)
    return { response }
  }
  if (output instanceof Blob) {
    const type = output.type || 'application/octet-stream'
    const headers = { 'content-type': type, 'x-request-id': requestId }
    return { response: c.body(output.stream(), 200, headers) }
  }
  if (output instanceof ArrayBuffer || ArrayBuffer.isView(output)) {
    const bytes =
      output instanceof ArrayBuffer
        ? new Uint8Array(output)
        : new Uint8Array(output.buffer, output.byteOffset, output.byteLength)
    const headers = { 'content-type': 'application/octet-stream', 'x-request-id': requestId }
    return { response: c.body(bytes as Uint8Array<ArrayBuffer>, 200, headers) }
  }
  const text = JSON.stringify(output ?? null)
  // The access line reports the body's size: made here, it is known and sent as content-length.
  const bytes = accessLog() === undefined ? undefined : utf8Length(text)
  if (own && fromNodeServer(c)) {
    // Plain headers: @hono/node-server writes them as they are, where a Headers object (which
    // Hono makes for a second header) costs building, converting and iterating per request.
    const headers: Record<string, string> = {
      'content-type': 'application/json',
      'x-request-id': requestId,
    }
    if (bytes !== undefined) headers['content-length'] = String(bytes)
    if (traceId !== undefined) headers['x-trace-id'] = traceId
    return { response: new Response(text, { headers }), bytes, tracedHeader: true }
  }
  if (own) {
    // Elsewhere the runtime's own Response: Deno copies init headers other than a lone
    // content-type into a native map at construction (3.5 µs a request in process, ~0.7 served),
    // where the same headers set afterwards cost a tenth of that; Bun takes either alike. The
    // runtime writes content-length for a string body itself.
    const response = new Response(text, { headers: { 'content-type': 'application/json' } })
    response.headers.set('x-request-id', requestId)
    if (traceId !== undefined) response.headers.set('x-trace-id', traceId)
    return { response, bytes, tracedHeader: true }
  }
  const headers: Record<string, string> = { 'content-type': 'application/json' }
  if (bytes !== undefined) headers['content-length'] = String(bytes)
  // Setting the header on the finished response is cheaper than handing Hono a second header
  // (which builds an extra Headers object per request).
  const response = c.body(text, 200, headers)
  response.headers.set('x-request-id', requestId)
  return { response, bytes }
}
