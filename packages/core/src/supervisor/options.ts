// The supervisor's options: defaults merged in one place, and every bad value rejected with an
// error naming it and the fix, before anything starts.
import { existsSync } from 'node:fs'
import { isAbsolute, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { BentoConfigError, describe } from '../errors.ts'
import type { WorkerAssignment } from '../plan/plan.ts'
import { inheritedExecArgv, type PortSharing, type Runtime } from '../runtime/index.ts'
import { DEFAULTS } from '../service/defaults.ts'
import { bytes, environmentVariables, knownKeys, seconds } from '../service/fields.ts'
import { normalizeRestart } from '../service/settings.ts'
import type { ResolvedRestartPolicy, RestartPolicy } from '../service/types.ts'
import { type LogFormat, type Logger, loggerOf } from './logger.ts'

/**
 * What the supervisor needs of one planned worker (`plan().assignments` fit as they are): its
 * 1-based index, which a restarted worker keeps, and its own variables (`CUDA_VISIBLE_DEVICES`,
 * `OMP_NUM_THREADS`, ...).
 */
export type WorkerSlot = Pick<WorkerAssignment, 'workerIndex' | 'env'>

/** What `supervise()` runs, and how. */
export interface SuperviseOptions {
  /** The module every worker runs (a path or `file:` URL); it calls `runWorker()`. */
  workerEntry: string | URL
  /** One entry per worker, e.g. `plan(service, { probe }).assignments`. */
  assignments: readonly WorkerSlot[]
  /** The public port; 0 picks a free one. Default 3000. */
  port?: number
  /** The address to listen on. Default `0.0.0.0`. */
  host?: string
  /**
   * A second port, on `host`, for `/livez`, `/healthz`, `/readyz` and `/metrics`; `/metrics`
   * then answers 404 on the public port. 0 picks a free one. Default: none.
   */
  adminPort?: number
  /**
   * How the workers share the port: on Node `round-robin` (default) or `shared-socket`; on Bun and
   * Deno `reuseport`. docs/architecture.md compares them.
   */
  portSharing?: PortSharing
  /** Runtime flags for the workers, e.g. `['--import', 'tsx']` on Node. Default: the supervisor's own on Node, none on Bun and Deno. */
  execArgv?: readonly string[]
  /** The workers' working directory. Default: the supervisor's. */
  cwd?: string
  /** Variables for every worker, on top of the supervisor's environment. */
  env?: Record<string, string>
  /** Seconds a draining worker gets to finish its requests. Default 30. */
  drainTimeout?: number
  /** Seconds a drained worker gets for `onShutdown` before it is killed. Default 5. */
  shutdownGrace?: number
  /** When crashed workers are restarted; defaults as a service's `restart`. */
  restart?: RestartPolicy
  /** Runs once before any worker starts; if it throws, nothing starts. */
  onDeployment?: () => void | Promise<void>
  /** `pretty` (default), `json`, or a logger of your own. */
  logger?: LogFormat | Logger
  /** How long `gather` waits for each worker's answer, in ms. Default 1000. */
  gatherTimeoutMs?: number
  /**
   * Replace a worker whose resident memory stays above this (bytes, or `1.5Gi`): start its
   * successor, wait until it is ready, then drain it. Linux only. Default: no limit.
   */
  maxMemory?: number | string
  /** Seconds between memory checks; a worker is replaced after 3 checks in a row above. Default 1. */
  memoryCheckInterval?: number
  /**
   * Serve a service that only other services call: no public port; each worker listens on its
   * own Unix socket in `dir` (mode 0600), or with `transport: 'tcp'` on a port of 127.0.0.1,
   * and `endpoints()` lists the ready ones.
   */
  internal?: { dir: string; transport?: 'unix' | 'tcp' }
  /** Called with `endpoints()` whenever a worker becomes ready or stops taking calls. */
  onEndpoints?: (endpoints: string[]) => void
  /**
   * Answers a worker's `gather` of a `bento:graph:` topic: the other services' answers, for the
   * entry's `/metrics` and `/readyz` over a whole graph.
   */
  graphGather?: (topic: string) => Promise<unknown[]>
  /**
   * Keep one warm standby process per worker, loaded up to the user's entry, so that a reload,
   * recycle or restart takes it instead of starting a process (`bento dev`). The worker module
   * must support it (`runEntry()` does). Costs a process per worker. Default false.
   */
  standby?: boolean
}

/** The options with every default applied. */
export interface ResolvedOptions {
  workerEntry: string
  assignments: WorkerSlot[]
  port: number
  host: string
  adminPort: number | undefined
  portSharing: PortSharing
  execArgv: string[]
  cwd: string
  env: Record<string, string>
  drainTimeout: number
  shutdownGrace: number
  restart: ResolvedRestartPolicy
  onDeployment: (() => void | Promise<void>) | undefined
  logger: Logger
  gatherTimeoutMs: number
  maxMemory: number | undefined
  memoryCheckInterval: number
  internal: { dir: string; transport: 'unix' | 'tcp' } | undefined
  onEndpoints: ((endpoints: string[]) => void) | undefined
  graphGather: ((topic: string) => Promise<unknown[]>) | undefined
  standby: boolean
}

// The supervisor's defaults, from `DEFAULTS` (restart and drainTimeout are a service's).
const SUPERVISOR_DEFAULTS = { ...DEFAULTS.listen, ...DEFAULTS.supervisor }

const OPTION_KEYS = [
  'workerEntry',
  'assignments',
  'port',
  'host',
  'adminPort',
  'portSharing',
  'execArgv',
  'cwd',
  'env',
  'drainTimeout',
  'shutdownGrace',
  'restart',
  'onDeployment',
  'logger',
  'gatherTimeoutMs',
  'maxMemory',
  'memoryCheckInterval',
  'internal',
  'onEndpoints',
  'graphGather',
  'standby',
] as const

function fail(field: string, problem: string, fix: string): never {
  throw new BentoConfigError({ field: `supervise(options).${field}`, problem, fix })
}

/**
 * Applies the defaults to `options` and checks them.
 * @example
 * const resolved = resolveOptions(
 *   { workerEntry: './worker.js', assignments: [{ workerIndex: 1, env: {} }] },
 *   currentRuntime()
 * )
 */
export function resolveOptions(
  options: SuperviseOptions,
  runtime: Pick<Runtime, 'name' | 'portSharing'>
): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    fail('', 'must be an object', 'call supervise({ workerEntry, assignments })')
  }
  knownKeys(options as unknown as Record<string, unknown>, OPTION_KEYS, '', fail)
  const cwd = options.cwd ?? process.cwd()
  return {
    workerEntry: entryPath(options.workerEntry, cwd, runtime.name),
    assignments: checkAssignments(options.assignments),
    port: checkPort(options.port ?? SUPERVISOR_DEFAULTS.port),
    host: checkHost(options.host ?? SUPERVISOR_DEFAULTS.host),
    adminPort: options.adminPort === undefined ? undefined : checkPort(options.adminPort),
    portSharing: checkPortSharing(options.portSharing, runtime),
    execArgv: checkExecArgv(options.execArgv, runtime.name),
    cwd,
    env: environmentVariables(options.env, 'env', fail),
    drainTimeout: seconds(options.drainTimeout, DEFAULTS.drainTimeout, 'drainTimeout', fail),
    shutdownGrace: seconds(
      options.shutdownGrace,
      SUPERVISOR_DEFAULTS.shutdownGrace,
      'shutdownGrace',
      fail
    ),
    restart: normalizeRestart(options.restart, fail),
    onDeployment: checkFunction(options.onDeployment, 'onDeployment'),
    logger: loggerOf(options.logger),
    gatherTimeoutMs: positive(
      options.gatherTimeoutMs ?? SUPERVISOR_DEFAULTS.gatherTimeoutMs,
      'gatherTimeoutMs',
      'use e.g. gatherTimeoutMs: 1000'
    ),
    maxMemory: bytes(options.maxMemory, 'maxMemory', fail),
    memoryCheckInterval: seconds(
      options.memoryCheckInterval,
      SUPERVISOR_DEFAULTS.memoryCheckInterval,
      'memoryCheckInterval',
      fail
    ),
    internal: checkInternal(options.internal),
    onEndpoints: checkFunction(options.onEndpoints, 'onEndpoints'),
    graphGather: checkFunction(options.graphGather, 'graphGather'),
    standby: checkBoolean(options.standby, 'standby'),
  }
}

function checkBoolean(value: unknown, field: string): boolean {
  if (value === undefined) return false
  if (typeof value !== 'boolean')
    fail(field, `must be true or false, got ${describe(value)}`, `leave ${field} out for false`)
  return value
}

function checkInternal(internal: SuperviseOptions['internal']): ResolvedOptions['internal'] {
  if (internal === undefined) return undefined
  if (typeof internal?.dir !== 'string' || !isAbsolute(internal.dir)) {
    fail(
      'internal.dir',
      `must be an absolute directory path, got ${describe(internal?.dir)}`,
      'pass a directory only this user can read, e.g. one made with mkdtemp'
    )
  }
  const transport = internal.transport ?? 'unix'
  if (transport !== 'unix' && transport !== 'tcp') {
    fail(
      'internal.transport',
      `must be "unix" or "tcp", got ${describe(transport)}`,
      'leave it out for Unix sockets'
    )
  }
  return { dir: internal.dir, transport }
}

function entryPath(entry: string | URL, cwd: string, runtime: Runtime['name']): string {
  // Deno runs a module of an npm package only through its npm: specifier: from a path inside its
  // npm cache it can't resolve the package's own imports (`deno run -A npm:bento` relies on this).
  if (typeof entry === 'string' && /^(npm|jsr):/.test(entry)) {
    if (runtime !== 'deno') {
      fail(
        'workerEntry',
        `is the Deno specifier ${entry}, but the workers run on ${runtime}`,
        'pass a path or a file: URL'
      )
    }
    return entry
  }
  let path: string
  if (entry instanceof URL || (typeof entry === 'string' && entry.startsWith('file:'))) {
    path = fileURLToPath(entry)
  } else if (typeof entry === 'string' && entry !== '') {
    path = isAbsolute(entry) ? entry : resolve(cwd, entry)
  } else {
    fail(
      'workerEntry',
      `must be a path or a file: URL, got ${describe(entry)}`,
      "pass the module that calls runWorker(), e.g. new URL('./worker.js', import.meta.url)"
    )
  }
  if (!existsSync(path)) {
    fail(
      'workerEntry',
      `${path} does not exist`,
      'pass the path of the module that calls runWorker() (relative paths start at cwd)'
    )
  }
  return path
}

function checkAssignments(assignments: readonly WorkerSlot[]): WorkerSlot[] {
  if (!Array.isArray(assignments) || assignments.length === 0) {
    fail(
      'assignments',
      `must be a non-empty array, got ${describe(assignments)}`,
      'pass one { workerIndex, env } per worker, as the worker-count strategy plans them'
    )
  }
  const seen = new Set<number>()
  return assignments.map((assignment, i) => {
    const index = assignment?.workerIndex
    if (!(Number.isInteger(index) && index > 0)) {
      fail(
        `assignments[${i}].workerIndex`,
        `must be a positive integer, got ${describe(index)}`,
        'number the workers 1, 2, 3, ...'
      )
    }
    if (seen.has(index)) {
      fail(`assignments[${i}].workerIndex`, `repeats ${index}`, 'give each worker its own index')
    }
    seen.add(index)
    return {
      workerIndex: index,
      env: environmentVariables(assignment.env, `assignments[${i}].env`, fail),
    }
  })
}

function checkPort(port: number): number {
  if (!(Number.isInteger(port) && port >= 0 && port <= 65_535)) {
    fail(
      'port',
      `must be an integer from 0 to 65535, got ${describe(port)}`,
      'use e.g. port: 3000 (0 picks a free port)'
    )
  }
  return port
}

function checkHost(host: string): string {
  if (typeof host !== 'string' || host === '') {
    fail('host', `must be an address, got ${describe(host)}`, "use '0.0.0.0' or '127.0.0.1'")
  }
  return host
}

function checkPortSharing(
  sharing: PortSharing | undefined,
  runtime: Pick<Runtime, 'name' | 'portSharing'>
): PortSharing {
  if (sharing === undefined) return runtime.portSharing[0]!
  if (!runtime.portSharing.includes(sharing)) {
    fail(
      'portSharing',
      `${describe(sharing)} is not available on ${runtime.name}`,
      `use ${runtime.portSharing.map((s) => JSON.stringify(s)).join(' or ')}, or leave it out`
    )
  }
  return sharing
}

function checkExecArgv(
  execArgv: readonly string[] | undefined,
  runtimeName: Runtime['name']
): string[] {
  if (execArgv === undefined) {
    return inheritedExecArgv(runtimeName)
  }
  if (!Array.isArray(execArgv) || execArgv.some((arg) => typeof arg !== 'string')) {
    fail(
      'execArgv',
      `must be an array of strings, got ${describe(execArgv)}`,
      "write e.g. execArgv: ['--import', 'tsx']"
    )
  }
  return [...execArgv]
}

function checkFunction<F>(fn: F | undefined, field: string): F | undefined {
  if (fn !== undefined && typeof fn !== 'function') {
    fail(field, `must be a function, got ${describe(fn)}`, `write ${field}: async () => { ... }`)
  }
  return fn
}

function positive(value: number, field: string, fix: string): number {
  if (!(typeof value === 'number' && Number.isFinite(value) && value > 0)) {
    fail(field, `must be a positive number, got ${describe(value)}`, fix)
  }
  return value
}
