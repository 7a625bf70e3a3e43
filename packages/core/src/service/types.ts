// What a service is made of: what a user writes (`ServiceConfig`, `api()`'s definitions) and what
// `service()` makes of it (`Service`, its `settings` and `apis`), and how a handler calls the
// services it depends on (`Clients`); types, and the symbols that mark a service and a
// dependency. One file, because these types refer to each other. No `node:` imports anywhere
// under service/: a definition loads on Node, Bun, Deno and edge runtimes alike.

import type { Deploy, ResolvedDeploy } from './deploy.ts'
import type { StandardSchemaV1 } from './schema.ts'
import type { Secret } from './secret.ts'
import type { ResolvedTracing, Tracing } from './tracing.ts'

export interface WorkerInfo {
  /** 1-based, stable: a restarted worker keeps its index (as BentoML's `worker_index`). */
  workerIndex: number
  /** How many workers the service runs. */
  workerCount: number
  /** The GPU or MIG device UUIDs assigned to this worker (its `CUDA_VISIBLE_DEVICES`). */
  gpus: string[]
  /** Threads this worker should use for its model (its `OMP_NUM_THREADS`). */
  threads: number
}

/** What a handler receives besides its input. `Deps` is the API's `depends`, which types `depends`. */
export interface ApiContext<State = unknown, Deps = UntypedDepends> extends WorkerInfo {
  /** The id sent back in the `x-request-id` header. */
  requestId: string
  headers: Headers
  /** Aborted when the client goes away or the request times out. */
  signal: AbortSignal
  /** Whatever `onStartup` returned in this worker. */
  state: State
  /**
   * A client for each service this one depends on: `await ctx.depends.embedder.embed(input)`.
   * Each call carries this request's remaining time, cancellation, id and trace context.
   */
  depends: Clients<Deps>
}

type Awaitable<T> = T | Promise<T>
type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown
type OutputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown

/** Options every API has. */
interface ApiCommon<InSchema, OutSchema, Deps> {
  /** Standard Schema (zod, valibot, arktype, ...) for the request body. */
  input?: InSchema
  /** Standard Schema for the response; checked in development. */
  output?: OutSchema
  /** The route, default `/<api name>`. */
  route?: string
  /** The HTTP method, default `POST`. */
  method?: 'POST' | 'GET' | 'PUT'
  /** Shown in the OpenAPI document. */
  description?: string
  /** How an async iterable result is sent: server-sent events (default) or raw text/bytes. */
  stream?: 'sse' | 'text'
  /**
   * Accept its input as a form (`application/x-www-form-urlencoded`, `multipart/form-data`) as well
   * as JSON. Default: only when the input has a file. A web page on another site can post a form
   * without the browser asking the service first, so an API that takes forms can be posted to
   * from any site the user visits.
   */
  forms?: boolean
  /**
   * The services this API calls, as in the service's `depends` (both are served): listing them
   * here types `ctx.depends` in the handler, which TypeScript can't do from the service's own.
   */
  depends?: Deps
}

/** What a handler may return: its output (checked against `output`) or a stream of chunks. */
export type HandlerResult<OutSchema> = Awaitable<OutputOf<OutSchema> | AsyncIterable<unknown>>

/** An API that handles one request at a time. `Result` is what its handler returns. */
export interface SingleApi<
  InSchema = unknown,
  OutSchema = unknown,
  State = unknown,
  Deps = UntypedDepends,
  Result extends HandlerResult<OutSchema> = HandlerResult<OutSchema>,
> extends ApiCommon<InSchema, OutSchema, Deps> {
  batchable?: false
  handler: (input: InputOf<InSchema>, ctx: ApiContext<State, Deps>) => Result
}

/** One request of a batch, as its handler sees it beside the input of the same index. */
export interface BatchItem {
  /** The request's own id (`x-request-id`). */
  readonly requestId: string
  readonly headers: Headers
  /** Aborted when this request's client goes away or its own deadline passes. */
  readonly signal: AbortSignal
}

/**
 * What a batch handler receives besides its inputs: the worker's, with `signal` aborted only when
 * every request of the batch has gone, `depends` calls that last as long as the longest deadline
 * of the batch's requests still waiting (and carry the first one's trace), and each request's own
 * id, headers and signal in `items`, in the order of the inputs. `requestId` and `headers` are the
 * first request's.
 */
export interface BatchContext<State = unknown, Deps = UntypedDepends>
  extends ApiContext<State, Deps> {
  readonly items: readonly BatchItem[]
}

/** An API whose handler receives a batch of inputs and returns one output per input, in order. */
export interface BatchApi<
  InSchema = unknown,
  OutSchema = unknown,
  State = unknown,
  Deps = UntypedDepends,
  Result extends Awaitable<OutputOf<OutSchema>[]> = Awaitable<OutputOf<OutSchema>[]>,
> extends ApiCommon<InSchema, OutSchema, Deps> {
  batchable: true
  /** The largest batch the handler is given. Default 32. */
  maxBatchSize?: number
  /** A request waits at most this long for its batch to be answered. Default 100. */
  maxLatencyMs?: number
  handler: (inputs: InputOf<InSchema>[], ctx: BatchContext<State, Deps>) => Result
}

/** One API of a service. */
export type ApiDefinition<InSchema = unknown, OutSchema = unknown, State = unknown> =
  // biome-ignore lint/suspicious/noExplicitAny: any dependencies and any handler result
  SingleApi<InSchema, OutSchema, State, any, any> | BatchApi<InSchema, OutSchema, State, any, any>

/** Hardware the service asks for. */
export interface Resources {
  /** CPUs (fractions allowed). Declaring it selects the CPU worker strategy. */
  cpu?: number
  /** Memory for the whole service: bytes or `512Mi`, `2Gi`, ... */
  memory?: number | string
  /** Whole GPUs, or a fraction below 1 to let several workers share one. */
  gpu?: number
}

/** Request limits, enforced in each worker. */
export interface Traffic {
  /** Seconds before a request gets `504` and its handler's signal aborts. Default 60. */
  timeout?: number
  /** Requests one worker handles at once; more wait in a queue. Default: no limit. */
  maxConcurrency?: number
  /** Requests that may wait for a slot; the rest get `503`. Default: `maxConcurrency`. */
  maxQueue?: number
}

/** How long a restart waits: `initial` seconds, doubled per consecutive restart up to `max`. */
export interface Backoff {
  /** The first delay, in seconds. Default 0.1. */
  initial?: number
  /** The delay never exceeds this, in seconds. Default 10. */
  max?: number
  /** A worker up this many seconds starts the doubling over. Default 30. */
  resetAfter?: number
}

/**
 * When a worker that exited is started again, and when the supervisor gives up. Only unstable
 * exits count towards giving up: a worker that exits before it is ready, or within `minUptime` of
 * being ready without having answered a request. A worker that served and then died (killed by
 * the OOM killer, a chaos tool, a rare crash) is always restarted, with backoff.
 */
export interface RestartPolicy {
  /** Seconds a ready worker must stay up (or answer a request) to count as started. Default 1. */
  minUptime?: number
  /** Unstable exits of one worker index allowed within `window` before the service stops. Default 5. */
  maxRestarts?: number
  /** Seconds over which unstable exits are counted. Default 60. */
  window?: number
  /** Delay before each restart. */
  backoff?: Backoff
  /** Never stop on unstable exits either (Kubernetes' behaviour). Default false. */
  keepRetrying?: boolean
}

/** A restart policy with every default applied. */
export interface ResolvedRestartPolicy {
  minUptime: number
  maxRestarts: number
  window: number
  backoff: Required<Backoff>
  keepRetrying: boolean
}

/** What a request to the service may send (more gets `413` before a handler runs), and CORS. */
export interface HttpLimits {
  /** The largest request body, in bytes or as a size such as `'50Mi'`. Default 10 MiB. */
  bodyLimit?: number | string
  /** The most fields a form body (URL-encoded or multipart) may have. Default 1,000. */
  maxFormFields?: number
  /** Which web pages' scripts may call the APIs (CORS). Default: none but the service's own. */
  cors?: Cors
}

/** Cross-origin calls from browsers (CORS), answered for the APIs. */
export interface Cors {
  /** The origins allowed, e.g. `https://app.example.com`; `'*'` for any (no credentials then). */
  origin: string | string[]
  /** Let pages send cookies and `Authorization` (`Access-Control-Allow-Credentials`). Default false. */
  credentials?: boolean
  /** Request headers allowed beyond the CORS-safelisted ones. Default: `content-type`, `authorization`. */
  headers?: string[]
  /** Seconds a browser may cache a preflight's answer. Default 600. */
  maxAge?: number
}

/** Who may call a service on its public port. */
export interface Auth {
  /**
   * Tokens a request must send as `Authorization: Bearer <token>` (several while one is rotated
   * out), best as `env('NAME')`. `/livez`, `/healthz` and `/readyz` stay open for probes.
   */
  bearer: Secret | Secret[]
}

/** Which operational routes the public port serves besides the APIs and health checks. */
export interface Expose {
  /** `/metrics` (Prometheus). Default true. */
  metrics?: boolean
  /** The OpenAPI document at `/docs.json` and Swagger UI at `/`. Default true. */
  docs?: boolean
}

/** Everything a service declares. `State` is what `onStartup` returns. */
export interface ServiceConfig<
  State = unknown,
  Deps extends DependsMap = DependsMap,
  // biome-ignore lint/suspicious/noExplicitAny: each API has its own schemas; `api()` keeps them typed
  Apis extends Record<string, ApiDefinition<any, any, any>> = Record<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    ApiDefinition<any, any, State>
  >,
> {
  /** Lower-case letters, digits, `-`, `_` and `.`. */
  name: string
  /** A positive integer, or `"cpu_count"`. Default: from `resources`, else 1. */
  workers?: number | 'cpu_count'
  resources?: Resources
  /** Workers per GPU (or per CPU for single-threaded models). Default 1. */
  workersPerResource?: number
  /** True when the model uses all cores itself (one worker then gets every thread). */
  multiThreaded?: boolean
  /** Expected memory of one worker (bytes or `1Gi`): caps the worker count at what fits. */
  workerMemory?: number | string
  /**
   * Replace a worker whose resident memory stays above this (bytes or `1.5Gi`), gracefully: its
   * successor starts and becomes ready before it drains (PM2's `max_memory_restart`). Linux only.
   */
  maxMemory?: number | string
  traffic?: Traffic
  /** What a request may send (the size of its body, the fields of a form), and CORS. */
  http?: HttpLimits
  /** Require a bearer token on the public port: `auth: { bearer: env('SEARCH_TOKEN') }`. */
  auth?: Auth
  /** Which operational routes the public port serves: `expose: { docs: false }`. */
  expose?: Expose
  /**
   * On Deno, permissions its workers get beyond bento's own (read files, use the network, read
   * the environment and system figures, write only their sockets): `{ allow: ['--allow-ffi'] }`
   * for a native addon, `'--allow-write=/models'`, `'--allow-run=ffmpeg'`. Other runtimes have
   * no permissions and ignore it.
   */
  deno?: { allow?: string[] }
  /** Extra environment variables for every worker. */
  envs?: Record<string, string>
  /**
   * The services this one calls, each served by its own workers: `{ embedder }`, or
   * `{ embedder: depends(embedder, { url }) }` for one served elsewhere.
   */
  depends?: Deps
  restart?: RestartPolicy
  /** Seconds a draining worker may take to finish its requests before it is killed. Default 30. */
  drainTimeout?: number
  /** How `bento build` deploys it to Kubernetes: replicas, image, autoscaling. */
  deploy?: Deploy
  /** Per-service tracing choices (sample rate, attributes); export is set by the OTEL_* variables. */
  tracing?: Tracing
  /** Runs once in the supervisor before any worker starts (download a model, migrate, ...). */
  onDeployment?: () => Awaitable<void>
  /** Runs in each worker before it reports ready; its result is `ctx.state` in handlers. */
  onStartup?: (worker: WorkerInfo) => Awaitable<State>
  /** Runs in each worker after it has drained. */
  onShutdown?: (worker: WorkerInfo & { state: State }) => Awaitable<void>
  /** `/readyz` answers 503 while this returns false. */
  isReady?: (worker: WorkerInfo & { state: State }) => Awaitable<boolean>
  /** `/livez` answers 503 while this returns false. */
  isAlive?: (worker: WorkerInfo & { state: State }) => Awaitable<boolean>
  // The intersection lets TypeScript infer the APIs as written, while their handlers' `state`
  // still has to be what `onStartup` returns.
  // biome-ignore lint/suspicious/noExplicitAny: each API has its own schemas
  apis: Apis & Record<string, ApiDefinition<any, any, State>>
}

/** An API after defaults are applied. */
export type NormalizedApi = ApiDefinition<
  StandardSchemaV1 | undefined,
  StandardSchemaV1 | undefined
> & {
  name: string
  route: string
  method: 'POST' | 'GET' | 'PUT'
  stream: 'sse' | 'text'
}

/** A service's settings after defaults are applied. */
export interface ServiceSettings {
  workers: number | 'cpu_count' | undefined
  resources: { cpu: number | undefined; memory: number | undefined; gpu: number | undefined }
  workersPerResource: number
  multiThreaded: boolean
  workerMemory: number | undefined
  maxMemory: number | undefined
  traffic: { timeout: number; maxConcurrency: number | undefined; maxQueue: number | undefined }
  http: {
    bodyLimit: number
    maxFormFields: number
    cors: { origin: string[]; credentials: boolean; headers: string[]; maxAge: number } | undefined
  }
  auth: { bearer: Secret[] } | undefined
  expose: { metrics: boolean; docs: boolean }
  deno: { allow: string[] }
  envs: Record<string, string>
  restart: ResolvedRestartPolicy
  drainTimeout: number
  deploy: ResolvedDeploy
  tracing: ResolvedTracing
}

/** Marks what `service()` made (in any copy of this package). */
export const SERVICE: unique symbol = Symbol.for('bento.service') as never

/**
 * True when `value` was made by `service()` (in any copy of this package).
 * @example
 * const found = Object.values(await import('./service.ts')).find(isService)
 */
export function isService(value: unknown): value is Service {
  return typeof value === 'object' && value !== null && (value as Service)[SERVICE] === true
}

/** A dependency with every default applied: the service called, and its address when it has one. */
export interface ResolvedDependency {
  // biome-ignore lint/suspicious/noExplicitAny: a dependency may be any service
  readonly service: Service<any, any, any>
  /** Where it is served, from `depends(service, { url })`; otherwise bento serves it. */
  readonly url: string | undefined
  /** Headers for the calls to `url`, from `depends(service, { headers })`. */
  readonly headers: Readonly<Record<string, string>> | undefined
}

/** A defined service: pass it to `bento serve`, `toHono()`, or the supervisor. */
export interface Service<
  State = unknown,
  // biome-ignore lint/suspicious/noExplicitAny: each API has its own schemas
  Apis = Record<string, ApiDefinition<any, any, any>>,
  Deps = DependsMap,
> {
  readonly [SERVICE]: true
  readonly name: string
  /** The settings with every default applied. */
  readonly settings: ServiceSettings
  /** The APIs in declaration order, with their routes resolved. */
  readonly apis: readonly NormalizedApi[]
  /** Every service it calls, by the name its handlers use (`ctx.depends.<name>`). */
  readonly depends: Readonly<Record<string, ResolvedDependency>>
  /** The definition as written (hooks included). */
  // biome-ignore lint/suspicious/noExplicitAny: the definition keeps its APIs' own types
  readonly definition: ServiceConfig<State, any, any> & { apis: Apis; depends?: Deps }
}

// The types of calls between services: what `depends` holds, and the typed client a handler gets
// for each dependency (`ctx.depends.embedder.embed(input)`), or a program gets from `client()`.
// The calls themselves are in client/.

/** Marks what `depends()` made (in any copy of this package). */
export const DEPENDENCY: unique symbol = Symbol.for('bento.dependency') as never

/** A service served elsewhere, or with options: what `depends(service, options)` returns. */
export interface Dependency<S = Service> {
  readonly [DEPENDENCY]: true
  readonly service: S
  /** The base URL it answers at (`http://embedder:3000`); unset: bento serves it. */
  readonly url: string | undefined
  /** Headers for the calls to `url`. */
  readonly headers: Readonly<Record<string, string>> | undefined
}

/** What a `depends` field holds: a service, or `depends(service, options)`, by name. */
// biome-ignore lint/suspicious/noExplicitAny: a dependency may be any service
export type DependsMap = Record<string, Service<any, any, any> | Dependency<Service<any, any, any>>>

declare const UNTYPED: unique symbol
/**
 * The `Deps` of an API that lists no `depends`: its `ctx.depends` is untyped, each call
 * resolving to `any`.
 */
export interface UntypedDepends {
  readonly [UNTYPED]: true
}

/** Options of one call to another service. */
export interface CallOptions {
  /** Aborts the call (and the callee's handler, through its own signal). */
  signal?: AbortSignal
  /**
   * Milliseconds the call may take. Default: in a handler, what is left of the request's time;
   * elsewhere, the client's `timeout`.
   */
  timeout?: number
  /** Extra request headers. */
  headers?: Record<string, string>
}

/**
 * A call in flight: await it for the answer, or iterate it for the chunks of a streaming API.
 * @example
 * for await (const token of ctx.depends.llm.generate({ prompt })) process(token)
 */
export interface PendingCall<T> extends PromiseLike<T>, AsyncIterable<unknown> {
  catch<E = never>(onRejected?: (reason: unknown) => E | PromiseLike<E>): Promise<T | E>
  finally(onFinally?: () => void): Promise<T>
}

// An API declared inline in `service()` gets `any` for the schemas it leaves out (TypeScript infers
// them from the contextual type): that means "no schema", not "any schema".
type IsAny<T> = 0 extends 1 & T ? true : false
type CallInput<S> =
  IsAny<S> extends true
    ? unknown
    : S extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<S>
      : unknown
type Declared<Out, Otherwise> =
  IsAny<Out> extends true
    ? Otherwise
    : Out extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<Out>
      : Otherwise
// What crosses the wire: bytes arrive as bytes, a handler's own Response as whatever it held.
type Received<T> = T extends Blob | ArrayBuffer | ArrayBufferView
  ? Uint8Array
  : T extends Response
    ? unknown
    : T
type Method<In, Out> = undefined extends In
  ? (input?: In, options?: CallOptions) => Out
  : (input: In, options?: CallOptions) => Out

/** The client method of one API: one input in, its output (or its chunks) out. */
export type ClientMethod<A> =
  // biome-ignore lint/suspicious/noExplicitAny: matching any API's other parameters
  A extends BatchApi<infer In, infer Out, any, any, infer R>
    ? Method<
        CallInput<In>,
        Promise<Declared<Out, Awaited<R> extends readonly (infer O)[] ? Received<O> : unknown>>
      >
    : // biome-ignore lint/suspicious/noExplicitAny: matching any API's other parameters
      A extends SingleApi<infer In, infer Out, any, any, infer R>
      ? Awaited<R> extends AsyncIterable<infer Chunk>
        ? Method<CallInput<In>, AsyncIterable<Received<Chunk>>>
        : Method<CallInput<In>, Promise<Declared<Out, Received<Awaited<R>>>>>
      : never

// biome-ignore lint/suspicious/noExplicitAny: any service's APIs
type ApisOf<S> = S extends Service<any, infer Apis, any> ? Apis : never

/**
 * The typed client of a service: one method per API.
 * @example
 * const search: Client<typeof searchService> = client<typeof searchService>('http://localhost:3000')
 */
export type Client<S> = { [K in keyof ApisOf<S>]: ClientMethod<ApisOf<S>[K]> }

/** A client whose methods take and return anything: a dependency the types don't describe. */
export type UntypedClient = Record<
  string,
  // biome-ignore lint/suspicious/noExplicitAny: an untyped dependency answers anything
  (input?: unknown, options?: CallOptions) => PendingCall<any>
>

type ServiceOf<D> = D extends Dependency<infer S> ? S : D

/** `ctx.depends`: a typed client per dependency, or untyped ones when the API lists none. */
export type Clients<Deps> = [Deps] extends [UntypedDepends]
  ? Record<string, UntypedClient>
  : { [K in keyof Deps]: Client<ServiceOf<Deps[K]>> }
