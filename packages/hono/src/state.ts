// What one worker process keeps per service: its lifecycle, metrics and concurrency limiter, shared
// by every app made from that service. The table lives on globalThis (like @bento/core's context)
// so that two copies of this package in one process agree, and it is what this worker answers
// when the service asks every worker for its metrics or readiness.
import type { Service } from '@bento/core'
import { dependencyStats, type Lifecycle, lifecycle, serverContext } from '@bento/core/adapter'
import {
  mergeSnapshots,
  ServiceMetrics,
  type ServiceSnapshot,
  type WorkerMetrics,
} from './metrics.ts'
import { Limiter } from './traffic.ts'

/** One service's per-worker state. */
export interface ServiceState {
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

const KEY = Symbol.for('bento.hono.states')

interface Table {
  states: Map<Service<unknown>, ServiceState>
}

function table(): Table {
  const g = globalThis as { [KEY]?: Table }
  if (g[KEY] === undefined) {
    g[KEY] = { states: new Map() }
    // Registered once per process: the answers cover every service this worker serves.
    serverContext.answer('metrics', metricsAnswer)
    serverContext.answer('ready', readyAnswer)
  }
  return g[KEY]
}

/**
 * The per-worker state of `service`, created on first use.
 * @example
 * const { metrics, limiter } = stateOf(service)
 */
export function stateOf(service: Service<unknown>): ServiceState {
  const { states } = table()
  const known = states.get(service)
  if (known) return known
  const { maxConcurrency, maxQueue } = service.settings.traffic
  const limiter =
    maxConcurrency === undefined
      ? undefined
      : new Limiter(maxConcurrency, maxQueue ?? maxConcurrency)
  const created: ServiceState = {
    service,
    lifecycle: lifecycle(service),
    metrics: new ServiceMetrics(service.apis, () => limiter?.queued ?? 0),
    limiter,
  }
  states.set(service, created)
  return created
}

/**
 * This worker's status as `service` sees it. Outside a supervisor nothing reports `ready` for the
 * worker, so a plain app is `ready` once its `onStartup` has run.
 * @example
 * workerStatus(stateOf(service)) // 'starting' before the first request of a plain app
 */
export function workerStatus(state: ServiceState): 'starting' | 'ready' | 'draining' {
  const status = serverContext.status
  if (status === 'draining' || serverContext.supervised) return status
  return state.lifecycle.started ? 'ready' : 'starting'
}

/**
 * This service's readiness in this worker: `ready` status and `isReady` agreeing.
 * @example
 * const { ready } = await readiness(stateOf(service))
 */
export async function readiness(state: ServiceState): Promise<ServiceReadiness> {
  const status = workerStatus(state)
  if (status !== 'ready') return { ready: false, status }
  try {
    return { ready: await state.lifecycle.ready(), status }
  } catch (error) {
    return { ready: false, status, error: error instanceof Error ? error.message : String(error) }
  }
}

function metricsAnswer(): WorkerMetrics {
  const byName = new Map<string, ServiceSnapshot[]>()
  for (const state of table().states.values()) {
    const list = byName.get(state.service.name) ?? []
    list.push(state.metrics.snapshot())
    byName.set(state.service.name, list)
  }
  const services: Record<string, ServiceSnapshot> = {}
  for (const [name, list] of byName) services[name] = mergeSnapshots(list)
  const dependencies = dependencyStats().snapshot()
  return {
    worker: serverContext.workerIndex,
    services,
    ...(dependencies.length > 0 && { dependencies }),
  }
}

async function readyAnswer(): Promise<WorkerReadiness> {
  const services: Record<string, ServiceReadiness> = {}
  for (const state of table().states.values()) {
    const mine = await readiness(state)
    const seen = services[state.service.name]
    // Two copies of one service in a worker are ready only together.
    services[state.service.name] = seen === undefined || (seen.ready && !mine.ready) ? mine : seen
  }
  return { worker: serverContext.workerIndex, services }
}

/**
 * Every worker's answer to `topic` (this worker's alone when standalone). A supervisor that does
 * not answer within `ms` is skipped and this worker answers alone, marked `partial`.
 * @example
 * const { answers } = await gatherAll<WorkerMetrics>('metrics')
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
