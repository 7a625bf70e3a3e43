import { INSTRUMENTS, type Instrument } from '@bento/core/adapter'
import { describe, expect, it } from 'vitest'
import {
  ApiMetrics,
  Histogram,
  LATENCY_BUCKETS,
  mergeSnapshots,
  renderPrometheus,
  type WorkerMetrics,
} from './metrics.ts'

describe('Histogram', () => {
  it('counts each value in the first bucket whose bound is at least the value', () => {
    const h = new Histogram([0.1, 1])
    for (const v of [0.05, 0.1, 0.5, 1, 7]) h.observe(v)
    expect(h.data()).toEqual({ counts: [2, 2, 1], sum: 8.65, count: 5 })
  })
})

describe('mergeSnapshots', () => {
  it('sums counters, histograms, gauges and the queue; keeps APIs only one side has', () => {
    const a = new ApiMetrics(true)
    a.done(200, 0.01)
    a.batch!.observe(1)
    a.inFlight = 2
    const b = new ApiMetrics(true)
    b.done(200, 0.02)
    b.done(500, 3)
    b.batch!.observe(4)
    b.inFlight = 1
    const merged = mergeSnapshots([
      { apis: { x: a.snapshot() }, queue: 1 },
      { apis: { x: b.snapshot(), y: new ApiMetrics(false).snapshot() }, queue: 2 },
    ])
    expect(merged.queue).toBe(3)
    expect(Object.keys(merged.apis)).toEqual(['x', 'y'])
    expect(merged.apis.x!.requests).toEqual({ 200: 2, 500: 1 })
    expect(merged.apis.x!.latency['200']!.count).toBe(2)
    expect(merged.apis.x!.latency['200']!.sum).toBeCloseTo(0.03)
    expect(merged.apis.x!.latency['500']!.count).toBe(1)
    expect(merged.apis.x!.batch!.count).toBe(2)
    expect(merged.apis.x!.inFlight).toBe(3)
  })
})

describe('renderPrometheus', () => {
  const worker = (index: number, inFlight: number): WorkerMetrics => {
    const api = new ApiMetrics(false, 'POST', '/predict')
    api.done(200, 0.2)
    api.inFlight = inFlight
    return { worker: index, services: { s: { apis: { predict: api.snapshot() }, queue: 0 } } }
  }

  it('writes HELP and TYPE before each family and cumulative buckets ending in +Inf', () => {
    const text = renderPrometheus([{ service: 's', workers: [worker(1, 0)] }])
    expect(text).toContain(
      '# HELP bento_requests_total API requests answered, by API and HTTP status.\n# TYPE bento_requests_total counter\nbento_requests_total{service="s",api="predict",status="200"} 1\n'
    )
    const labels =
      'service="s",api="predict",http_request_method="POST",http_route="/predict",http_response_status_code="200"'
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="0.1"} 0\n`)
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="0.25"} 1\n`)
    expect(text).toContain(`http_server_request_duration_seconds_bucket{${labels},le="+Inf"} 1\n`)
    expect(text).toContain(`http_server_request_duration_seconds_sum{${labels}} 0.2\n`)
    expect(text).not.toContain('worker=')
    expect(text.endsWith('\n')).toBe(true)
  })

  it("renders only the families core's INSTRUMENTS define, with their description and kind", () => {
    const text = renderPrometheus([{ service: 's', workers: [worker(1, 0), worker(2, 1)] }])
    const defined = new Map<string, Instrument>(
      Object.values(INSTRUMENTS).map((i) => [i.prometheus, i])
    )
    const helps = [...text.matchAll(/^# HELP (\S+) (.*)$/gm)]
    expect(helps.length).toBeGreaterThan(5)
    for (const [, name, help] of helps) expect(defined.get(name!)?.description, name).toBe(help)
    for (const [, name, type] of text.matchAll(/^# TYPE (\S+) (\S+)$/gm)) {
      expect(defined.get(name!)?.kind, name).toBe(type)
    }
  })

  it('labels in-flight requests by worker only when several workers answered', () => {
    const text = renderPrometheus([{ service: 's', workers: [worker(1, 2), worker(2, 5)] }])
    expect(text).toContain(
      'http_server_active_requests{service="s",api="predict",http_request_method="POST",http_route="/predict"} 7\n'
    )
    expect(text).toContain('bento_worker_requests_in_flight{service="s",worker="2"} 5\n')
    expect(text).toContain('bento_workers{service="s"} 2\n')
  })

  it('ignores workers that do not serve the service', () => {
    const text = renderPrometheus([{ service: 'other', workers: [worker(1, 0)] }])
    expect(text).toContain('bento_workers{service="other"} 0\n')
    expect(text).not.toContain('predict')
  })
})

describe('renderPrometheus with the supervisor counters', () => {
  it('adds restarts and recycles by cause, only when supervised', () => {
    const worker: WorkerMetrics = {
      worker: 1,
      services: { s: { apis: { x: new ApiMetrics(false).snapshot() }, queue: 0 } },
    }
    const text = renderPrometheus([
      {
        service: 's',
        workers: [worker],
        supervisor: { restarts: { oom: 2, crash: 1 }, recycles: { memory: 3 } },
      },
    ])
    expect(text).toContain('# TYPE bento_worker_restarts_total counter')
    expect(text).toContain('bento_worker_restarts_total{service="s",reason="oom"} 2')
    expect(text).toContain('bento_worker_restarts_total{service="s",reason="crash"} 1')
    expect(text).toContain('bento_worker_recycles_total{service="s",reason="memory"} 3')
    expect(renderPrometheus([{ service: 's', workers: [worker] }])).not.toContain(
      'bento_worker_restarts_total'
    )
  })
})

describe('renderPrometheus over a graph', () => {
  const api = () => {
    const m = new ApiMetrics(false)
    m.done(200, 0.01)
    return m.snapshot()
  }
  const latency = (seconds: number) => {
    const h = new Histogram(LATENCY_BUCKETS)
    h.observe(seconds)
    return h.data()
  }

  it('writes each family once, with a sample per service, and the calls between them', () => {
    const search: WorkerMetrics = {
      worker: 1,
      services: { search: { apis: { search: api() }, queue: 0 } },
      dependencies: [
        {
          service: 'search',
          dependency: 'embedder',
          api: 'embed',
          calls: { '200': 3, '503': 1 },
          latency: latency(0.004),
        },
      ],
    }
    const searchTwo: WorkerMetrics = {
      worker: 2,
      services: { search: { apis: { search: api() }, queue: 0 } },
      dependencies: [
        {
          service: 'search',
          dependency: 'embedder',
          api: 'embed',
          calls: { '200': 2, error: 1 },
          latency: latency(0.02),
        },
      ],
    }
    const embedder: WorkerMetrics = {
      worker: 1,
      services: { embedder: { apis: { embed: api() }, queue: 0 } },
    }
    const text = renderPrometheus([
      { service: 'search', workers: [search, searchTwo] },
      {
        service: 'embedder',
        workers: [embedder],
        supervisor: { restarts: { crash: 1 }, recycles: {} },
      },
    ])
    expect(text.match(/# TYPE bento_requests_total /g)).toHaveLength(1)
    expect(text).toContain('bento_requests_total{service="search",api="search",status="200"} 2\n')
    expect(text).toContain('bento_requests_total{service="embedder",api="embed",status="200"} 1\n')
    expect(text).toContain('bento_workers{service="embedder"} 1\n')
    expect(text).toContain('bento_worker_restarts_total{service="embedder",reason="crash"} 1\n')
    expect(text).toContain(
      'bento_dependency_calls_total{service="search",dependency="embedder",api="embed",outcome="200"} 5\n'
    )
    expect(text).toContain(
      'bento_dependency_errors_total{service="search",dependency="embedder",api="embed"} 2\n'
    )
    expect(text).toContain(
      'bento_dependency_call_duration_seconds_count{service="search",dependency="embedder",api="embed"} 2\n'
    )
  })
})
