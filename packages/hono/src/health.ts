// The operational routes: liveness (this worker), readiness and metrics (the whole service: every
// worker's answer, gathered through the supervisor; and the services it depends on). None of them
// passes through the traffic limiter, so a saturated worker still answers its probes.
import { type ResolvedDependency, serverContext } from '@bento/core'
import {
  gatherGraph,
  graphSupervisorStats,
  type LocalApi,
  READY_API,
  targetFor,
} from '@bento/core/adapter'
import type { Context, Hono } from 'hono'
import { jsonResponse } from './errors.ts'
import {
  type MetricsSection,
  PROMETHEUS_CONTENT_TYPE,
  renderPrometheus,
  type WorkerMetrics,
} from './metrics.ts'
import { requestIdOf } from './request.ts'
import { gatherAll, type ServiceState, type WorkerReadiness, workerStatus } from './state.ts'

/**
 * Adds `GET /livez`, `/healthz` and `/readyz` for `state`'s service.
 * @example
 * healthRoutes(app, stateOf(service))
 */
export function healthRoutes(app: Hono, state: ServiceState): void {
  const name = state.service.name

  // Liveness is about this process: a dead worker is restarted whatever the others do.
  const live = async (c: Context, withStatus: boolean): Promise<Response> => {
    const requestId = requestIdOf(c)
    let alive = false
    let error: string | undefined
    try {
      alive = await state.lifecycle.alive()
    } catch (thrown) {
      error = thrown instanceof Error ? thrown.message : String(thrown)
    }
    const body: Record<string, unknown> = { status: alive ? 'alive' : 'dead', service: name }
    if (withStatus) {
      body.worker = serverContext.workerIndex
      body.workerStatus = workerStatus(state)
    }
    if (error !== undefined) body.error = error
    return jsonResponse(c, body, alive ? 200 : 503, { 'x-request-id': requestId })
  }
  app.get('/livez', (c) => live(c, false))
  app.get('/healthz', (c) => live(c, true))

  app.get('/readyz', async (c) => {
    const requestId = requestIdOf(c)
    const { ready, body } = await readiness(state)
    return jsonResponse(c, body, ready ? 200 : 503, { 'x-request-id': requestId })
  })
}

/**
 * The service's readiness as `/readyz` answers it: every worker's, and every dependency's.
 * @example
 * const { ready, body } = await readiness(stateOf(service))
 */
export async function readiness(
  state: ServiceState
): Promise<{ ready: boolean; body: Record<string, unknown> }> {
  const name = state.service.name
  // A plain Hono app starts its service on first use; a readiness probe is a use, or a platform
  // that waits for readiness before sending traffic would wait forever.
  if (!state.lifecycle.started && serverContext.status !== 'draining') {
    state.lifecycle.start().catch(() => {})
  }
  const { answers, partial } = await gatherAll<WorkerReadiness>('ready')
  const workers = answers.map((answer) => ({
    worker: answer.worker,
    ...(answer.services?.[name] ?? { ready: false, status: 'unknown' }),
  }))
  const dependencies = await dependenciesReady(state)
  const ready =
    workers.length > 0 && workers.every((w) => w.ready) && dependencies.every((d) => d.ready)
  const body: Record<string, unknown> = {
    status: ready ? 'ready' : 'not ready',
    service: name,
    workers,
  }
  if (dependencies.length > 0) {
    body.dependencies = dependencies
    const waiting = dependencies.filter((d) => !d.ready).map((d) => d.service)
    if (waiting.length > 0) body.notReady = waiting
  }
  if (partial) body.partial = true
  return { ready, body }
}

/**
 * `readiness` as a local API, for callers that reach this service as frames or in-process.
 * @example
 * apis.set(READY_API, readyApi(state))
 */
export function readyApi(state: ServiceState): LocalApi {
  return async () => {
    const { ready, body } = await readiness(state)
    return { status: ready ? 200 : 503, type: 'application/json', body: JSON.stringify(body) }
  }
}

/**
 * Adds `GET /metrics`: Prometheus text for `state`'s service, summed over every worker.
 * @example
 * metricsRoute(app, stateOf(service))
 */
export function metricsRoute(app: Hono, state: ServiceState): void {
  app.get('/metrics', async (c) => {
    const requestId = requestIdOf(c)
    const [{ answers }, supervisor, others, othersStats] = await Promise.all([
      gatherAll<WorkerMetrics>('metrics'),
      serverContext.supervisorStats().catch(() => undefined),
      // The services this one depends on that run on this machine: through the supervisor.
      gatherGraph<WorkerMetrics>('metrics'),
      graphSupervisorStats(),
    ])
    const sections: MetricsSection[] = [
      { service: state.service.name, workers: answers.filter((a) => a.services), supervisor },
      ...others.map(({ service, values }) => ({
        service,
        workers: values.filter((v) => typeof v === 'object' && v !== null && v.services),
        supervisor: othersStats.find((o) => o.service === service)?.values[0],
      })),
    ]
    const text = renderPrometheus(sections)
    return c.body(text, 200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'x-request-id': requestId })
  })
}

// How long /readyz waits for a dependency's own /readyz: a dependency that hangs (a wrong
// address, a firewall dropping packets) makes this one not ready, not a probe that never answers.
const DEPENDENCY_READY_MS = 2_000

/** One dependency's readiness, as /readyz reports it. */
export interface DependencyReadiness {
  service: string
  ready: boolean
  /** Why it is not: its own /readyz answer's status, or what went wrong asking. */
  reason?: string
}

async function dependenciesReady(state: ServiceState): Promise<DependencyReadiness[]> {
  const seen = new Map<string, ResolvedDependency>()
  for (const dependency of Object.values(state.service.depends)) {
    seen.set(dependency.service.name, dependency)
  }
  return Promise.all(
    [...seen].map(async ([service, dependency]): Promise<DependencyReadiness> => {
      try {
        const response = await targetFor(service, dependency, state.service).send({
          api: { name: READY_API, route: '/readyz', method: 'GET' },
          input: undefined,
          headers: { accept: 'application/json' },
          signal: AbortSignal.timeout(DEPENDENCY_READY_MS),
        })
        const answer = (await response.value().catch(() => ({}))) as {
          notReady?: unknown
        } | null
        if (response.status === 200) return { service, ready: true }
        const inner = Array.isArray(answer?.notReady)
          ? ` (waiting for ${answer.notReady.join(', ')})`
          : ''
        return { service, ready: false, reason: `its /readyz answered ${response.status}${inner}` }
      } catch (error) {
        const timedOut = error instanceof Error && error.name === 'TimeoutError'
        const why = error instanceof Error ? error.message : String(error)
        return {
          service,
          ready: false,
          reason: timedOut ? `no answer within ${DEPENDENCY_READY_MS / 1000} s` : why,
        }
      }
    })
  )
}
