// Every metric bento reports, defined once: the name `/metrics` gives it (Prometheus), the name
// OTLP gives it where bento also records it through OpenTelemetry, its unit, description and
// histogram buckets. The Prometheus renderer (@bento/hono's metrics.ts) and the OpenTelemetry
// instruments (otel.ts) both read it, so the two never drift apart.
import { LATENCY_BUCKETS } from '../histogram.ts'

// Upper bounds of the batch size histogram.
const BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128, 256] as const

/** One metric: its Prometheus family, and its OpenTelemetry instrument where there is one. */
export interface Instrument {
  /** The family name under `/metrics`. */
  readonly prometheus: string
  readonly kind: 'counter' | 'gauge' | 'histogram'
  /** What it counts (the Prometheus HELP line, the OTLP description). */
  readonly description: string
  /** The OpenTelemetry instrument's name (semantic conventions where they name one). */
  readonly otel?: string
  /** The OpenTelemetry unit (UCUM). */
  readonly unit?: string
  readonly buckets?: readonly number[]
}

const seconds = { unit: 's', buckets: LATENCY_BUCKETS } as const

/** Every metric bento reports, by key. */
export const INSTRUMENTS = {
  requests: {
    prometheus: 'bento_requests_total',
    kind: 'counter',
    description: 'API requests answered, by API and HTTP status.',
  },
  // OpenTelemetry's HTTP server metrics, named under /metrics as its Prometheus exporter names them.
  requestDuration: {
    prometheus: 'http_server_request_duration_seconds',
    otel: 'http.server.request.duration',
    kind: 'histogram',
    description: 'Seconds from a request arriving to its response, by API and HTTP status.',
    ...seconds,
  },
  activeRequests: {
    prometheus: 'http_server_active_requests',
    otel: 'http.server.active_requests',
    kind: 'gauge',
    unit: '{request}',
    description: 'Requests being handled or queued, by API.',
  },
  queueDepth: {
    prometheus: 'bento_queue_depth',
    kind: 'gauge',
    description: 'Requests waiting for a concurrency permit.',
  },
  batchSize: {
    prometheus: 'bento_batch_size',
    otel: 'bento.batch.size',
    kind: 'histogram',
    unit: '{input}',
    description: 'Inputs per call of a batchable API handler.',
    buckets: BATCH_BUCKETS,
  },
  batchQueue: {
    prometheus: 'bento_batch_queue_seconds',
    kind: 'histogram',
    description: 'Seconds a request of a batchable API waited before its batch was sent.',
    ...seconds,
  },
  workers: {
    prometheus: 'bento_workers',
    kind: 'gauge',
    description: 'Workers that answered this scrape.',
  },
  restarts: {
    prometheus: 'bento_worker_restarts_total',
    kind: 'counter',
    description:
      'Workers restarted after exiting unasked, by cause: oom (the kernel OOM killer) or crash.',
  },
  recycles: {
    prometheus: 'bento_worker_recycles_total',
    kind: 'counter',
    description: 'Workers replaced on purpose by a fresh one, by cause: memory (over maxMemory).',
  },
  workerInFlight: {
    prometheus: 'bento_worker_requests_in_flight',
    kind: 'gauge',
    description: 'Requests being handled or queued, by worker (to spot an uneven load).',
  },
  dependencyCalls: {
    prometheus: 'bento_dependency_calls_total',
    kind: 'counter',
    description:
      "Calls to other services, by outcome: the callee's HTTP status, error (no answer) or timeout.",
  },
  dependencyErrors: {
    prometheus: 'bento_dependency_errors_total',
    kind: 'counter',
    description: 'Calls to other services that failed: no answer, a timeout, or a 4xx/5xx status.',
  },
  dependencyDuration: {
    prometheus: 'bento_dependency_call_duration_seconds',
    otel: 'http.client.request.duration',
    kind: 'histogram',
    description: "Seconds from a call to another service to its answer's status.",
    ...seconds,
  },
} as const satisfies Record<string, Instrument>
