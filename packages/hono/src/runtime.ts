// What one worker process keeps per service: its lifecycle, metrics and concurrency limiter, shared
// by every app made from that service. The table lives on globalThis (like @bento/core's context)
// so that two copies of this package in one process agree, and it is what this worker answers
// when the service asks every worker for its metrics or readiness.
import { type Lifecycle, lifecycle, type Service, serverContext } from '@bento/core'
import {
  mergeSnapshots,
  ServiceMetrics,
  type ServiceSnapshot,
  type WorkerSnapshot,
} from './metrics.ts'
import { Limiter } from './traffic.ts'

/** One service's per-worker state. */
export interface ServiceRuntime {
  readonly service: Service<unknown>
  readonly lifecycle: Lifecycle<unknown>
  readonly metrics: ServiceMetrics
  /** Absent when `traffic.maxConcurrency` is unset. */
  readonly limiter: Limiter | undefined
}

/** One service's readiness in one worker. */
export interface ServiceReadiness {
  ready: boolean
  /** The worker's status as this service sees it. */
  status: 'starting' | 'ready' | 'draining'
  /** Why `isReady` could not answer, when it threw. */
  error?: string
}

/** What one worker answers to `gather('ready')`. */
export interface WorkerReadiness {
  worker: number
  services: Record<string, ServiceReadiness>
}

const KEY = Symbol.for('bento.hono.runtimes')

interface Table {
  runtimes: Map<Service<unknown>, ServiceRuntime>
}

function table(): Table {
  const g = globalThis as { [KEY]?: Table }
  if (g[KEY] === undefined) {
    g[KEY] = { runtimes: new Map() }
    // Registered once per process: the answers cover every service this worker serves.
    serverContext.answer('metrics', metricsAnswer)
    serverContext.answer('ready', readyAnswer)
  }
  return g[KEY]
}

/**
 * The per-worker state of `service`, created on first use.
 * @example
 * const { metrics, limiter } = runtimeOf(service)
 */
export function runtimeOf(service: Service<unknown>): ServiceRuntime {
  const { runtimes } = table()
  const known = runtimes.get(service)
  if (known) return known
  const { maxConcurrency, maxQueue } = service.settings.traffic
  const limiter =
    maxConcurrency === undefined
      ? undefined
      : new Limiter(maxConcurrency, maxQueue ?? maxConcurrency)
  const created: ServiceRuntime = {
    service,
    lifecycle: lifecycle(service),
    metrics: new ServiceMetrics(service.apis, () => limiter?.queued ?? 0),
    limiter,
  }
  runtimes.set(service, created)
  return created
}

/**
 * This worker's status as `service` sees it. Outside a supervisor nothing reports `ready` for the
 * worker, so a plain app is `ready` once its `onStartup` has run.
 * @example
 * workerStatus(runtimeOf(service)) // 'starting' before the first request of a plain app
 */
export function workerStatus(runtime: ServiceRuntime): 'starting' | 'ready' | 'draining' {
  const status = serverContext.status
  if (status === 'draining' || serverContext.supervised) return status
  return runtime.lifecycle.started ? 'ready' : 'starting'
}

/**
 * This service's readiness in this worker: `ready` status and `isReady` agreeing.
 * @example
 * const { ready } = await readiness(runtimeOf(service))
 */
export async function readiness(runtime: ServiceRuntime): Promise<ServiceReadiness> {
  const status = workerStatus(runtime)
  if (status !== 'ready') return { ready: false, status }
  try {
    return { ready: await runtime.lifecycle.ready(), status }
  } catch (error) {
    return { ready: false, status, error: error instanceof Error ? error.message : String(error) }
  }
}

function metricsAnswer(): WorkerSnapshot {
  const byName = new Map<string, ServiceSnapshot[]>()
  for (const runtime of table().runtimes.values()) {
    const list = byName.get(runtime.service.name) ?? []
    list.push(runtime.metrics.snapshot())
    byName.set(runtime.service.name, list)
  }
  const services: Record<string, ServiceSnapshot> = {}
  for (const [name, list] of byName) services[name] = mergeSnapshots(list)
  return { worker: serverContext.workerIndex, services }
}

async function readyAnswer(): Promise<WorkerReadiness> {
  const services: Record<string, ServiceReadiness> = {}
  for (const runtime of table().runtimes.values()) {
    const mine = await readiness(runtime)
    const seen = services[runtime.service.name]
    // Two copies of one service in a worker are ready only together.
    services[runtime.service.name] = seen === undefined || (seen.ready && !mine.ready) ? mine : seen
  }
  return { worker: serverContext.workerIndex, services }
}

/**
 * Every worker's answer to `topic` (this worker's alone when standalone). A supervisor that does
 * not answer within `ms` is skipped and this worker answers alone, marked `partial`.
 * @example
 * const { answers } = await gatherAll<WorkerSnapshot>('metrics')
 */
export async function gatherAll<T>(
  topic: 'metrics' | 'ready',
  ms = 5_000
): Promise<{ answers: T[]; partial: boolean }> {
  table()
  let timer: ReturnType<typeof setTimeout> | undefined
  const late = new Promise<undefined>((resolve) => {
    timer = setTimeout(resolve, ms, undefined)
  })
  try {
    const answers = await Promise.race([serverContext.gather(topic), late])
    if (Array.isArray(answers)) return { answers: answers.filter(isObject) as T[], partial: false }
  } catch {
    // The supervisor could not be asked; fall through to this worker's own answer.
  } finally {
    clearTimeout(timer)
  }
  const own = topic === 'metrics' ? metricsAnswer() : await readyAnswer()
  return { answers: [own as T], partial: true }
}

function isObject(value: unknown): boolean {
  return typeof value === 'object' && value !== null
}
