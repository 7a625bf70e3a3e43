// The service model. No `node:` imports: a service definition must load on Node, Bun, Deno and
// edge runtimes alike.
import { BentoConfigError, describe } from './errors.ts'
import { isStandardSchema, type StandardSchemaV1 } from './schema.ts'
import { parseBytes } from './units.ts'

/** What a worker knows about itself; hooks and handlers receive it. */
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

/** What a handler receives besides its input. */
export interface ApiContext<State = unknown> extends WorkerInfo {
  /** The id sent back in the `x-request-id` header. */
  requestId: string
  headers: Headers
  /** Aborted when the client goes away or the request times out. */
  signal: AbortSignal
  /** Whatever `onStartup` returned in this worker. */
  state: State
}

type Awaitable<T> = T | Promise<T>
type InputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown
type OutputOf<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferInput<S> : unknown

/** Options every API has. */
interface ApiCommon<InSchema, OutSchema> {
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
}

/** An API that handles one request at a time. */
export interface SingleApi<InSchema = unknown, OutSchema = unknown, State = unknown>
  extends ApiCommon<InSchema, OutSchema> {
  batchable?: false
  handler: (
    input: InputOf<InSchema>,
    ctx: ApiContext<State>
  ) => Awaitable<OutputOf<OutSchema> | AsyncIterable<unknown>>
}

/** An API whose handler receives a batch of inputs and returns one output per input, in order. */
export interface BatchApi<InSchema = unknown, OutSchema = unknown, State = unknown>
  extends ApiCommon<InSchema, OutSchema> {
  batchable: true
  /** The largest batch the handler is given. Default 32. */
  maxBatchSize?: number
  /** A request waits at most this long for its batch to be answered. Default 100. */
  maxLatencyMs?: number
  handler: (inputs: InputOf<InSchema>[], ctx: ApiContext<State>) => Awaitable<OutputOf<OutSchema>[]>
}

/** One API of a service. */
export type ApiDefinition<InSchema = unknown, OutSchema = unknown, State = unknown> =
  | SingleApi<InSchema, OutSchema, State>
  | BatchApi<InSchema, OutSchema, State>

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

/** Everything a service declares. `State` is what `onStartup` returns. */
export interface ServiceConfig<State = unknown> {
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
  /** Extra environment variables for every worker. */
  envs?: Record<string, string>
  restart?: RestartPolicy
  /** Seconds a draining worker may take to finish its requests before it is killed. Default 30. */
  drainTimeout?: number
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
  // biome-ignore lint/suspicious/noExplicitAny: each API has its own schemas; `api()` keeps them typed
  apis: Record<string, ApiDefinition<any, any, State>>
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
export interface NormalizedConfig {
  workers: number | 'cpu_count' | undefined
  resources: { cpu: number | undefined; memory: number | undefined; gpu: number | undefined }
  workersPerResource: number
  multiThreaded: boolean
  workerMemory: number | undefined
  maxMemory: number | undefined
  traffic: { timeout: number; maxConcurrency: number | undefined; maxQueue: number | undefined }
  envs: Record<string, string>
  restart: ResolvedRestartPolicy
  drainTimeout: number
}

const SERVICE = Symbol.for('bento.service')

/** A defined service: pass it to `bento serve`, `toHono()`, or the supervisor. */
export interface Service<State = unknown> {
  readonly [SERVICE]: true
  readonly name: string
  /** The settings with every default applied. */
  readonly settings: NormalizedConfig
  /** The APIs in declaration order, with their routes resolved. */
  readonly apis: readonly NormalizedApi[]
  /** The definition as written (hooks included). */
  readonly config: ServiceConfig<State>
}

/** The defaults, in one place. */
export const DEFAULTS = {
  workersPerResource: 1,
  multiThreaded: false,
  traffic: { timeout: 60 },
  restart: {
    minUptime: 1,
    maxRestarts: 5,
    window: 60,
    backoff: { initial: 0.1, max: 10, resetAfter: 30 },
    keepRetrying: false,
  },
  drainTimeout: 30,
  batch: { maxBatchSize: 32, maxLatencyMs: 100 },
} as const

/**
 * Declares an API with its schemas, so the handler's input and output are typed from them.
 * @example
 * const greet = api({
 *   input: z.object({ name: z.string() }),
 *   handler: ({ name }) => ({ message: `Hello, ${name}!` }),
 * })
 */
export function api<
  InSchema extends StandardSchemaV1 | undefined = undefined,
  OutSchema extends StandardSchemaV1 | undefined = undefined,
  State = unknown,
>(definition: BatchApi<InSchema, OutSchema, State>): BatchApi<InSchema, OutSchema, State>
export function api<
  InSchema extends StandardSchemaV1 | undefined = undefined,
  OutSchema extends StandardSchemaV1 | undefined = undefined,
  State = unknown,
>(definition: SingleApi<InSchema, OutSchema, State>): SingleApi<InSchema, OutSchema, State>
export function api(definition: ApiDefinition): ApiDefinition {
  return definition
}

/**
 * Declares a service: its workers, resources, hooks and APIs. Invalid settings throw a
 * `BentoConfigError` naming the field and the fix, before any process starts.
 * @example
 * export default service({
 *   name: 'hello',
 *   workers: 'cpu_count',
 *   apis: {
 *     greet: api({
 *       input: z.object({ name: z.string() }),
 *       handler: ({ name }) => ({ message: `Hello, ${name}!` }),
 *     }),
 *   },
 * })
 */
export function service<State = unknown>(config: ServiceConfig<State>): Service<State> {
  if (typeof config !== 'object' || config === null) {
    throw new BentoConfigError({
      field: 'service(config)',
      problem: `must be an object, got ${describe(config)}`,
      fix: 'call service({ name, apis: { ... } })',
    })
  }
  const name = checkName(config.name)
  const fail = (field: string, problem: string, fix: string): never => {
    throw new BentoConfigError({ service: name, field, problem, fix })
  }
  const settings = normalizeSettings(config, fail)
  const apis = normalizeApis(config.apis, fail)
  checkHooks(config, fail)
  return Object.freeze({ [SERVICE]: true as const, name, settings, apis, config })
}

/**
 * True when `value` was made by `service()` (in any copy of this package).
 * @example
 * const found = Object.values(await import('./service.ts')).find(isService)
 */
export function isService(value: unknown): value is Service {
  return typeof value === 'object' && value !== null && (value as Service)[SERVICE] === true
}

/** Reports a bad field: throws, worded for where the value came from. */
export type Fail = (field: string, problem: string, fix: string) => never
// biome-ignore lint/suspicious/noExplicitAny: validation reads any service, whatever its State
type AnyConfig = ServiceConfig<any>

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new BentoConfigError({
      field: 'name',
      problem: `must be lower-case letters, digits, "-", "_" or ".", got ${describe(name)}`,
      fix: 'name the service like name: "text-classifier"',
    })
  }
  return name
}

function normalizeSettings(config: AnyConfig, fail: Fail): NormalizedConfig {
  const { workers } = config
  if (workers !== undefined && workers !== 'cpu_count' && !isPositiveInteger(workers)) {
    const hint =
      typeof workers === 'string' && /cpu.?count/i.test(workers)
        ? 'write "cpu_count" with an underscore'
        : 'use a whole number of at least 1, or "cpu_count" for one worker per CPU'
    fail('workers', `must be a positive integer or "cpu_count", got ${describe(workers)}`, hint)
  }
  const resources = config.resources ?? {}
  if (typeof resources !== 'object') {
    fail(
      'resources',
      `must be an object, got ${describe(resources)}`,
      'write resources: { cpu: 2 }'
    )
  }
  if (resources.cpu !== undefined && !isPositive(resources.cpu)) {
    fail(
      'resources.cpu',
      `must be a positive number of CPUs, got ${describe(resources.cpu)}`,
      'write resources: { cpu: 2 } (fractions such as 0.5 are fine)'
    )
  }
  const gpu = resources.gpu
  if (gpu !== undefined && !(isPositiveInteger(gpu) || (isPositive(gpu) && gpu < 1))) {
    fail(
      'resources.gpu',
      `must be a whole number of GPUs, or a fraction below 1 to share one, got ${describe(gpu)}`,
      'use gpu: 1, gpu: 2, ... or gpu: 0.5 to put two workers on each GPU'
    )
  }
  const memory = resources.memory === undefined ? undefined : parseBytes(resources.memory)
  if (resources.memory !== undefined && memory === undefined) {
    fail(
      'resources.memory',
      `must be bytes or a size such as "512Mi" or "2Gi", got ${describe(resources.memory)}`,
      'write memory: "2Gi"'
    )
  }
  const workerMemory =
    config.workerMemory === undefined ? undefined : parseBytes(config.workerMemory)
  if (config.workerMemory !== undefined && workerMemory === undefined) {
    fail(
      'workerMemory',
      `must be bytes or a size such as "512Mi" or "2Gi", got ${describe(config.workerMemory)}`,
      'write workerMemory: "1Gi"'
    )
  }
  const maxMemory = config.maxMemory === undefined ? undefined : parseBytes(config.maxMemory)
  if (config.maxMemory !== undefined && maxMemory === undefined) {
    fail(
      'maxMemory',
      `must be bytes or a size such as "512Mi" or "1.5Gi", got ${describe(config.maxMemory)}`,
      'write maxMemory: "1.5Gi"'
    )
  }
  const workersPerResource = config.workersPerResource ?? DEFAULTS.workersPerResource
  if (!isPositive(workersPerResource)) {
    fail(
      'workersPerResource',
      `must be a positive number, got ${describe(workersPerResource)}`,
      'use 1 (one worker per GPU or CPU), or e.g. 2 to run two per GPU'
    )
  }
  return {
    workers,
    resources: { cpu: resources.cpu, memory, gpu },
    workersPerResource,
    multiThreaded: config.multiThreaded ?? DEFAULTS.multiThreaded,
    workerMemory,
    maxMemory,
    traffic: normalizeTraffic(config.traffic ?? {}, fail),
    envs: normalizeEnvs(config.envs ?? {}, fail),
    restart: normalizeRestart(config.restart ?? {}, fail),
    drainTimeout: seconds(config.drainTimeout, DEFAULTS.drainTimeout, 'drainTimeout', fail),
  }
}

function normalizeTraffic(traffic: Traffic, fail: Fail): NormalizedConfig['traffic'] {
  const timeout = seconds(traffic.timeout, DEFAULTS.traffic.timeout, 'traffic.timeout', fail)
  const { maxConcurrency, maxQueue } = traffic
  if (maxConcurrency !== undefined && !isPositiveInteger(maxConcurrency)) {
    fail(
      'traffic.maxConcurrency',
      `must be a positive integer, got ${describe(maxConcurrency)}`,
      'use e.g. maxConcurrency: 8, or leave it out for no limit'
    )
  }
  if (maxQueue !== undefined && !(Number.isInteger(maxQueue) && maxQueue >= 0)) {
    fail(
      'traffic.maxQueue',
      `must be an integer of at least 0, got ${describe(maxQueue)}`,
      'use e.g. maxQueue: 16 (0 sheds every request beyond maxConcurrency)'
    )
  }
  if (maxQueue !== undefined && maxConcurrency === undefined) {
    fail(
      'traffic.maxQueue',
      'needs traffic.maxConcurrency',
      'set maxConcurrency too, or remove maxQueue'
    )
  }
  return { timeout, maxConcurrency, maxQueue: maxQueue ?? maxConcurrency }
}

/**
 * A restart policy with the defaults applied, every field checked; `fail` reports a bad one (the
 * service and the supervisor word their errors differently).
 * @example
 * const policy = normalizeRestart({ maxRestarts: 10 }, fail)
 */
export function normalizeRestart(restart: RestartPolicy, fail: Fail): ResolvedRestartPolicy {
  if (typeof restart !== 'object' || restart === null || Array.isArray(restart)) {
    fail(
      'restart',
      `must be an object, got ${describe(restart)}`,
      'write restart: { maxRestarts: 5 }'
    )
  }
  const d = DEFAULTS.restart
  const backoff = restart.backoff ?? {}
  if (typeof backoff !== 'object' || backoff === null || Array.isArray(backoff)) {
    fail(
      'restart.backoff',
      `must be an object, got ${describe(backoff)}`,
      'write backoff: { initial: 0.1, max: 10 }'
    )
  }
  const maxRestarts = restart.maxRestarts ?? d.maxRestarts
  if (!(Number.isInteger(maxRestarts) && maxRestarts >= 0)) {
    fail(
      'restart.maxRestarts',
      `must be an integer of at least 0, got ${describe(maxRestarts)}`,
      `use e.g. maxRestarts: ${d.maxRestarts}`
    )
  }
  const resolved: ResolvedRestartPolicy = {
    minUptime: seconds(restart.minUptime, d.minUptime, 'restart.minUptime', fail),
    maxRestarts,
    window: seconds(restart.window, d.window, 'restart.window', fail),
    backoff: {
      initial: seconds(backoff.initial, d.backoff.initial, 'restart.backoff.initial', fail),
      max: seconds(backoff.max, d.backoff.max, 'restart.backoff.max', fail),
      resetAfter: seconds(
        backoff.resetAfter,
        d.backoff.resetAfter,
        'restart.backoff.resetAfter',
        fail
      ),
    },
    keepRetrying: restart.keepRetrying ?? d.keepRetrying,
  }
  if (typeof resolved.keepRetrying !== 'boolean') {
    fail(
      'restart.keepRetrying',
      `must be true or false, got ${describe(resolved.keepRetrying)}`,
      'leave it out to stop on a crash loop'
    )
  }
  if (resolved.backoff.max < resolved.backoff.initial) {
    fail(
      'restart.backoff.max',
      `is ${resolved.backoff.max} s, below backoff.initial (${resolved.backoff.initial} s)`,
      'make max at least initial'
    )
  }
  return resolved
}

function normalizeEnvs(envs: Record<string, string>, fail: Fail): Record<string, string> {
  if (typeof envs !== 'object' || Array.isArray(envs)) {
    fail(
      'envs',
      `must be an object of strings, got ${describe(envs)}`,
      'write envs: { HF_HOME: "/models" }'
    )
  }
  for (const [key, value] of Object.entries(envs)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      fail(
        `envs.${key}`,
        'is not a valid environment variable name',
        'use letters, digits and "_", not starting with a digit'
      )
    }
    if (typeof value !== 'string') {
      fail(
        `envs.${key}`,
        `must be a string, got ${describe(value)}`,
        `write ${key}: "${String(value)}"`
      )
    }
  }
  return { ...envs }
}

function normalizeApis(apis: AnyConfig['apis'], fail: Fail): NormalizedApi[] {
  if (typeof apis !== 'object' || apis === null || Array.isArray(apis)) {
    fail(
      'apis',
      `must be an object of APIs, got ${describe(apis)}`,
      'write apis: { predict: api({ handler }) }'
    )
  }
  const routes = new Map<string, string>()
  return Object.entries(apis).map(([name, definition]) => {
    const field = `apis.${name}`
    if (!/^[A-Za-z_][A-Za-z0-9_-]*$/.test(name)) {
      fail(
        field,
        'is not a valid API name',
        'use letters, digits, "_" and "-", starting with a letter'
      )
    }
    if (
      typeof definition !== 'object' ||
      definition === null ||
      typeof definition.handler !== 'function'
    ) {
      fail(
        `${field}.handler`,
        'must be a function',
        `write ${name}: api({ handler: (input) => ... })`
      )
    }
    for (const key of ['input', 'output'] as const) {
      if (definition[key] !== undefined && !isStandardSchema(definition[key])) {
        fail(
          `${field}.${key}`,
          'is not a Standard Schema',
          'use a zod, valibot or arktype schema (anything implementing Standard Schema v1)'
        )
      }
    }
    const route = definition.route ?? `/${name}`
    if (typeof route !== 'string' || !route.startsWith('/')) {
      fail(
        `${field}.route`,
        `must start with "/", got ${describe(route)}`,
        `write route: "/${name}"`
      )
    }
    const method = definition.method ?? 'POST'
    if (!['POST', 'GET', 'PUT'].includes(method)) {
      fail(
        `${field}.method`,
        `must be "POST", "GET" or "PUT", got ${describe(method)}`,
        'leave it out for POST'
      )
    }
    const key = `${method} ${route}`
    if (routes.has(key)) {
      fail(
        `${field}.route`,
        `repeats ${key} of apis.${routes.get(key)}`,
        'give each API its own route'
      )
    }
    routes.set(key, name)
    const stream = definition.stream ?? 'sse'
    if (stream !== 'sse' && stream !== 'text') {
      fail(
        `${field}.stream`,
        `must be "sse" or "text", got ${describe(stream)}`,
        'leave it out for server-sent events'
      )
    }
    const normalized = { ...definition, name, route, method, stream }
    if (definition.batchable === true) {
      const batch = { ...DEFAULTS.batch, ...definition }
      if (!isPositiveInteger(batch.maxBatchSize)) {
        fail(
          `${field}.maxBatchSize`,
          `must be a positive integer, got ${describe(batch.maxBatchSize)}`,
          'use e.g. maxBatchSize: 32'
        )
      }
      if (!isPositive(batch.maxLatencyMs)) {
        fail(
          `${field}.maxLatencyMs`,
          `must be a positive number of milliseconds, got ${describe(batch.maxLatencyMs)}`,
          'use e.g. maxLatencyMs: 100'
        )
      }
      return {
        ...normalized,
        maxBatchSize: batch.maxBatchSize,
        maxLatencyMs: batch.maxLatencyMs,
      } as NormalizedApi
    }
    return normalized as NormalizedApi
  })
}

function checkHooks(config: AnyConfig, fail: Fail): void {
  for (const hook of ['onDeployment', 'onStartup', 'onShutdown', 'isReady', 'isAlive'] as const) {
    if (config[hook] !== undefined && typeof config[hook] !== 'function') {
      fail(
        hook,
        `must be a function, got ${describe(config[hook])}`,
        `write ${hook}: async () => { ... }`
      )
    }
  }
}

function seconds(value: number | undefined, fallback: number, field: string, fail: Fail): number {
  if (value === undefined) return fallback
  if (!isPositive(value)) {
    fail(
      field,
      `must be a positive number of seconds, got ${describe(value)}`,
      `use e.g. ${field.split('.').pop()}: ${fallback}`
    )
  }
  // BentoML counts these in seconds. Over a day, or a whole multiple of 1000 from 5000 up (30000,
  // 60000: JavaScript's millisecond timeouts), was almost surely meant in milliseconds.
  if (value > 86_400 || (value >= 5_000 && value % 1_000 === 0)) {
    const span = value > 86_400 ? 'over a day' : `over ${plural(Math.floor(value / 3600), 'hour')}`
    fail(
      field,
      `is ${value} seconds (${span})`,
      `it is in seconds, as in BentoML: write ${value / 1000} for ${value} ms`
    )
  }
  return value
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}
