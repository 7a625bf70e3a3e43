// A small metrics registry, dependency-free so it runs on edge runtimes. Each worker keeps plain
// counters; a scrape gathers every worker's snapshot (plain JSON, so it crosses the supervisor's
// IPC), sums them, and renders the Prometheus text format (version 0.0.4).
import {
  type DependencySnapshot,
  Histogram,
  type HistogramData,
  INSTRUMENTS,
  type Instrument,
  LATENCY_BUCKETS,
  type SupervisorStats,
} from '@bento/core/adapter'

export { Histogram, type HistogramData, LATENCY_BUCKETS }

const BATCH_BUCKETS = INSTRUMENTS.batchSize.buckets

/** One API's figures in one worker (or summed over workers). */
export interface ApiSnapshot {
  method: string
  route: string
  /** Responses by HTTP status. */
  requests: Record<string, number>
  /** Seconds from arrival to response, by HTTP status. */
  latency: Record<string, HistogramData>
  inFlight: number
  /** Present for batchable APIs: inputs per handler call. */
  batch?: HistogramData
  /** Present for batchable APIs: seconds each request waited for its batch to be sent. */
  batchWait?: HistogramData
}

/** One service's figures. */
export interface ServiceSnapshot {
  apis: Record<string, ApiSnapshot>
  queue: number
}

/** What one worker answers to `gather('metrics')`: every service it serves, by name. */
export interface WorkerMetrics {
  worker: number
  services: Record<string, ServiceSnapshot>
  /** The calls it made to other services. */
  dependencies?: DependencySnapshot[]
}

/**
 * The figures of one API in this worker.
 * @example
 * const m = new ApiMetrics(false, 'POST', '/greet'); m.inFlight++; m.done(200, 0.01)
 */
export class ApiMetrics {
  /** Latency by HTTP status; a status's count is its number of responses. */
  readonly latency = new Map<number, Histogram>()
  readonly batch: Histogram | undefined
  readonly batchWait: Histogram | undefined
  inFlight = 0

  constructor(
    batchable: boolean,
    readonly method = 'POST',
    readonly route = '/'
  ) {
    this.batch = batchable ? new Histogram(BATCH_BUCKETS) : undefined
    this.batchWait = batchable ? new Histogram(LATENCY_BUCKETS) : undefined
  }

  /**
   * Counts a response with `status` that took `seconds` from the request's arrival.
   * @example
   * metrics.done(200, 0.012)
   */
  done(status: number, seconds: number): void {
    let histogram = this.latency.get(status)
    if (histogram === undefined) {
      histogram = new Histogram(LATENCY_BUCKETS)
      this.latency.set(status, histogram)
    }
    histogram.observe(seconds)
  }

  /**
   * A JSON copy.
   * @example
   * const copy = metrics.snapshot()
   */
  snapshot(): ApiSnapshot {
    const requests: Record<string, number> = {}
    const latency: Record<string, HistogramData> = {}
    for (const [status, histogram] of this.latency) {
      const data = histogram.data()
      requests[status] = data.count
      latency[status] = data
    }
    const out: ApiSnapshot = {
      method: this.method,
      route: this.route,
      requests,
      latency,
      inFlight: this.inFlight,
    }
    if (this.batch) out.batch = this.batch.data()
    if (this.batchWait) out.batchWait = this.batchWait.data()
    return out
  }
}

/**
 * The figures of one service in this worker.
 * @example
 * const metrics = new ServiceMetrics(service.apis, () => limiter?.queued ?? 0)
 */
export class ServiceMetrics {
  readonly apis = new Map<string, ApiMetrics>()

  constructor(
    apis: ReadonlyArray<{ name: string; batchable?: boolean; method?: string; route?: string }>,
    private readonly queueDepth: () => number
  ) {
    for (const api of apis) {
      this.apis.set(api.name, new ApiMetrics(api.batchable === true, api.method, api.route))
    }
  }

  /**
   * A JSON copy.
   * @example
   * const copy = metrics.snapshot()
   */
  snapshot(): ServiceSnapshot {
    const apis: Record<string, ApiSnapshot> = {}
    for (const [name, api] of this.apis) apis[name] = api.snapshot()
    return { apis, queue: this.queueDepth() }
  }
}

/**
 * Sums snapshots of one service from several workers (or several copies in one worker).
 * @example
 * const total = mergeSnapshots(workers.map((w) => w.services.hello!))
 */
export function mergeSnapshots(snapshots: ReadonlyArray<ServiceSnapshot>): ServiceSnapshot {
  const apis: Record<string, ApiSnapshot> = {}
  let queue = 0
  for (const snapshot of snapshots) {
    queue += snapshot.queue
    for (const [name, api] of Object.entries(snapshot.apis)) {
      const into = apis[name]
      if (into === undefined) {
        apis[name] = structuredClone(api)
        continue
      }
      for (const [status, n] of Object.entries(api.requests)) {
        into.requests[status] = (into.requests[status] ?? 0) + n
      }
      for (const [status, data] of Object.entries(api.latency)) {
        const to = into.latency[status]
        if (to) addHistogram(to, data)
        else into.latency[status] = structuredClone(data)
      }
      for (const key of ['batch', 'batchWait'] as const) {
        const from = api[key]
        if (!from) continue
        const to = into[key]
        if (to) addHistogram(to, from)
        else into[key] = structuredClone(from)
      }
      into.inFlight += api.inFlight
    }
  }
  return { apis, queue }
}

function addHistogram(into: HistogramData, from: HistogramData): void {
  from.counts.forEach((n, i) => {
    into.counts[i] = (into.counts[i] ?? 0) + n
  })
  into.sum += from.sum
  into.count += from.count
}

/** One service's part of a scrape: every worker's answer, and its supervisor's counters. */
export interface MetricsSection {
  service: string
  workers: ReadonlyArray<WorkerMetrics>
  /** Restart and recycle counters, when the service runs under a supervisor. */
  supervisor?: SupervisorStats | undefined
}

/**
 * The Prometheus text exposition (format 0.0.4) of one or more services (an entry and the
 * services it depends on), each summed over its workers and labelled `service`; worker-level
 * in-flight counts get a `worker` label when more than one worker answered; calls to other
 * services are counted by calling service, dependency, API and outcome.
 * @example
 * const text = renderPrometheus([{ service: 'hello', workers: await serverContext.gather('metrics') }])
 */
export function renderPrometheus(sections: ReadonlyArray<MetricsSection>): string {
  const parts = sections.map(({ service, workers, supervisor }) => {
    const own = workers.filter((w) => w.services?.[service] !== undefined)
    const total = mergeSnapshots(own.map((w) => w.services[service]!))
    return { base: { service }, own, apis: Object.entries(total.apis), total, supervisor }
  })
  const out: string[] = []

  family(out, INSTRUMENTS.requests)
  for (const { base, apis } of parts) {
    for (const [api, m] of apis) {
      for (const [status, n] of Object.entries(m.requests)) {
        out.push(sample(INSTRUMENTS.requests.prometheus, { ...base, api, status }, n))
      }
    }
  }

  // OpenTelemetry's HTTP server metrics, named as its Prometheus exporter names them.
  family(out, INSTRUMENTS.requestDuration)
  for (const { base, apis } of parts) {
    for (const [api, m] of apis) {
      const http = { http_request_method: m.method, http_route: m.route }
      for (const [status, data] of Object.entries(m.latency)) {
        const labels = { ...base, api, ...http, http_response_status_code: status }
        histogram(out, INSTRUMENTS.requestDuration.prometheus, labels, LATENCY_BUCKETS, data)
      }
    }
  }

  family(out, INSTRUMENTS.activeRequests)
  for (const { base, apis } of parts) {
    for (const [api, m] of apis) {
      const labels = { ...base, api, http_request_method: m.method, http_route: m.route }
      out.push(sample(INSTRUMENTS.activeRequests.prometheus, labels, m.inFlight))
    }
  }

  family(out, INSTRUMENTS.queueDepth)
  for (const { base, total } of parts)
    out.push(sample(INSTRUMENTS.queueDepth.prometheus, base, total.queue))

  const batched = parts.flatMap(({ base, apis }) =>
    apis
      .filter(([, m]) => m.batch !== undefined)
      .map(([api, m]) => ({ labels: { ...base, api }, m }))
  )
  if (batched.length > 0) {
    family(out, INSTRUMENTS.batchSize)
    for (const { labels, m } of batched) {
      histogram(out, INSTRUMENTS.batchSize.prometheus, labels, BATCH_BUCKETS, m.batch!)
    }
    family(out, INSTRUMENTS.batchQueue)
    for (const { labels, m } of batched) {
      const wait = m.batchWait ?? {
        counts: new Array(LATENCY_BUCKETS.length + 1).fill(0),
        sum: 0,
        count: 0,
      }
      histogram(out, INSTRUMENTS.batchQueue.prometheus, labels, LATENCY_BUCKETS, wait)
    }
  }

  family(out, INSTRUMENTS.workers)
  for (const { base, own } of parts)
    out.push(sample(INSTRUMENTS.workers.prometheus, base, own.length))

  const supervised = parts.filter((p) => p.supervisor !== undefined)
  if (supervised.length > 0) {
    family(out, INSTRUMENTS.restarts)
    for (const { base, supervisor } of supervised) {
      for (const [reason, n] of Object.entries(supervisor!.restarts)) {
        out.push(sample(INSTRUMENTS.restarts.prometheus, { ...base, reason }, n))
      }
    }
    family(out, INSTRUMENTS.recycles)
    for (const { base, supervisor } of supervised) {
      for (const [reason, n] of Object.entries(supervisor!.recycles)) {
        out.push(sample(INSTRUMENTS.recycles.prometheus, { ...base, reason }, n))
      }
    }
  }

  const spread = parts.filter((p) => p.own.length > 1)
  if (spread.length > 0) {
    family(out, INSTRUMENTS.workerInFlight)
    for (const { base, own } of spread) {
      for (const w of own) {
        const apis = Object.values(w.services[base.service]!.apis)
        const inFlight = apis.reduce((n, m) => n + m.inFlight, 0)
        out.push(
          sample(
            INSTRUMENTS.workerInFlight.prometheus,
            { ...base, worker: String(w.worker) },
            inFlight
          )
        )
      }
    }
  }

  dependencyCalls(out, mergeDependencies(sections.flatMap((s) => s.workers)))
  return `${out.join('\n')}\n`
}

// Each worker counts the calls it made; a row per (caller, dependency, API), summed.
function mergeDependencies(workers: ReadonlyArray<WorkerMetrics>): DependencySnapshot[] {
  const rows = new Map<string, DependencySnapshot>()
  for (const worker of workers) {
    for (const row of worker.dependencies ?? []) {
      const key = `${row.service}\0${row.dependency}\0${row.api}`
      const into = rows.get(key)
      if (into === undefined) {
        rows.set(key, structuredClone(row))
        continue
      }
      for (const [outcome, n] of Object.entries(row.calls)) {
        into.calls[outcome] = (into.calls[outcome] ?? 0) + n
      }
      addHistogram(into.latency, row.latency)
    }
  }
  return [...rows.values()]
}

function dependencyCalls(out: string[], rows: DependencySnapshot[]): void {
  if (rows.length === 0) return
  const labels = (row: DependencySnapshot) => ({
    service: row.service,
    dependency: row.dependency,
    api: row.api,
  })
  family(out, INSTRUMENTS.dependencyCalls)
  for (const row of rows) {
    for (const [outcome, n] of Object.entries(row.calls)) {
      out.push(sample(INSTRUMENTS.dependencyCalls.prometheus, { ...labels(row), outcome }, n))
    }
  }
  family(out, INSTRUMENTS.dependencyErrors)
  for (const row of rows) {
    const failed = Object.entries(row.calls)
      .filter(([outcome]) => !/^[123]\d\d$/.test(outcome))
      .reduce((n, [, count]) => n + count, 0)
    out.push(sample(INSTRUMENTS.dependencyErrors.prometheus, labels(row), failed))
  }
  family(out, INSTRUMENTS.dependencyDuration)
  for (const row of rows) {
    histogram(
      out,
      INSTRUMENTS.dependencyDuration.prometheus,
      labels(row),
      LATENCY_BUCKETS,
      row.latency
    )
  }
}

/** The Content-Type of the text exposition format. */
export const PROMETHEUS_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'

function family(
  out: string[],
  { prometheus: name, kind: type, description: help }: Instrument
): void {
  out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`)
}

function histogram(
  out: string[],
  name: string,
  labels: Record<string, string>,
  bounds: readonly number[],
  data: HistogramData
): void {
  let cumulative = 0
  bounds.forEach((bound, i) => {
    cumulative += data.counts[i] ?? 0
    out.push(sample(`${name}_bucket`, { ...labels, le: String(bound) }, cumulative))
  })
  out.push(sample(`${name}_bucket`, { ...labels, le: '+Inf' }, data.count))
  out.push(sample(`${name}_sum`, labels, data.sum))
  out.push(sample(`${name}_count`, labels, data.count))
}

function sample(name: string, labels: Record<string, string>, value: number): string {
  const pairs = Object.entries(labels).map(([key, v]) => `${key}="${escapeLabel(v)}"`)
  return `${name}{${pairs.join(',')}} ${formatValue(value)}`
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n')
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN'
  if (value === Number.POSITIVE_INFINITY) return '+Inf'
  if (value === Number.NEGATIVE_INFINITY) return '-Inf'
  return String(value)
}
