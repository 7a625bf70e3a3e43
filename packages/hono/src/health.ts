// The operational routes: liveness (this worker), readiness and metrics (the whole service: every
// worker's answer, gathered through the supervisor). None of them passes through the traffic
// limiter, so a saturated worker still answers its probes.
import { serverContext } from '@bento/core'
import type { Context, Hono } from 'hono'
import { jsonResponse } from './errors.ts'
import { PROMETHEUS_CONTENT_TYPE, renderPrometheus, type WorkerMetrics } from './metrics.ts'
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
    const ready = workers.length > 0 && workers.every((w) => w.ready)
    const body: Record<string, unknown> = {
      status: ready ? 'ready' : 'not ready',
      service: name,
      workers,
    }
    if (partial) body.partial = true
    return jsonResponse(c, body, ready ? 200 : 503, { 'x-request-id': requestId })
  })
}

/**
 * Adds `GET /metrics`: Prometheus text for `state`'s service, summed over every worker.
 * @example
 * metricsRoute(app, stateOf(service))
 */
export function metricsRoute(app: Hono, state: ServiceState): void {
  app.get('/metrics', async (c) => {
    const requestId = requestIdOf(c)
    const [{ answers }, supervisor] = await Promise.all([
      gatherAll<WorkerMetrics>('metrics'),
      serverContext.supervisorStats().catch(() => undefined),
    ])
    const text = renderPrometheus(
      state.service.name,
      answers.filter((a) => a.services),
      supervisor
    )
    return c.body(text, 200, { 'content-type': PROMETHEUS_CONTENT_TYPE, 'x-request-id': requestId })
  })
}
