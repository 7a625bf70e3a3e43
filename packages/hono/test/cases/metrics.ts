// Metrics: the Prometheus exposition, locally and summed over several workers.
import { api, HttpError, service } from '@bento/core'
import { setGatherTransport, setWorkerStatus } from '@bento/core/internal'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import {
  assert,
  call,
  deferred,
  define,
  eventually,
  queueDepth,
  unique,
  until,
} from '../harness.ts'
import { parsePrometheus, sampleValue } from '../prometheus.ts'

export default define('metrics', (test) => {
  test('/metrics is valid Prometheus text with requests, latency, in-flight, queue and batch sizes', async () => {
    const gate = deferred<void>()
    let holding = 0
    const s = service({
      name: unique('metered'),
      traffic: { maxConcurrency: 1, maxQueue: 4 },
      apis: {
        greet: api({
          input: z.object({ name: z.string() }),
          handler: ({ name }: { name: string }) => ({ message: `Hi ${name}` }),
        }),
        fail: api({
          handler: () => {
            throw new HttpError(422, 'nope')
          },
        }),
        hold: api({
          handler: async () => {
            holding++
            await gate.promise
            return 'done'
          },
        }),
        embed: api({ batchable: true, handler: (inputs: unknown[]) => inputs.map(() => 1) }),
      },
    })
    const app = toHono(s)
    await call(app, 'POST', '/greet', { name: 'a' })
    await call(app, 'POST', '/greet', { name: 'b' })
    await call(app, 'POST', '/greet', { name: 3 })
    await call(app, 'POST', '/fail')
    await call(app, 'POST', '/embed', { x: 1 })
    const held = call(app, 'POST', '/hold')
    await until(() => holding === 1)
    const queued = call(app, 'POST', '/greet', { name: 'queued' })
    await eventually(async () => (await queueDepth(app)) === 1, 2_000, 'the request to queue')

    const answer = await app.request('/metrics')
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8')
    const metrics = parsePrometheus(await answer.text())
    const base = { service: s.name }

    assert.equal(metrics.families.get('bento_requests_total')?.type, 'counter')
    assert.equal(
      sampleValue(metrics, 'bento_requests_total', { ...base, api: 'greet', status: '200' }),
      2
    )
    assert.equal(
      sampleValue(metrics, 'bento_requests_total', { ...base, api: 'greet', status: '400' }),
      1
    )
    assert.equal(
      sampleValue(metrics, 'bento_requests_total', { ...base, api: 'fail', status: '422' }),
      1
    )

    // OpenTelemetry's HTTP semantic conventions, as its Prometheus exporter names them.
    const duration = 'http_server_request_duration_seconds'
    const greet = { ...base, api: 'greet', http_request_method: 'POST', http_route: '/greet' }
    assert.equal(metrics.families.get(duration)?.type, 'histogram')
    const ok = { ...greet, http_response_status_code: '200' }
    assert.equal(sampleValue(metrics, `${duration}_count`, ok), 2)
    assert.equal(
      sampleValue(metrics, `${duration}_count`, { ...greet, http_response_status_code: '400' }),
      1
    )
    assert.equal(sampleValue(metrics, `${duration}_bucket`, { ...ok, le: '+Inf' }), 2)
    assert.ok(sampleValue(metrics, `${duration}_sum`, ok)! >= 0)

    assert.equal(metrics.families.get('http_server_active_requests')?.type, 'gauge')
    assert.equal(sampleValue(metrics, 'http_server_active_requests', { ...base, api: 'hold' }), 1)
    assert.equal(sampleValue(metrics, 'http_server_active_requests', greet), 1)
    assert.equal(sampleValue(metrics, 'bento_queue_depth', base), 1)

    assert.equal(metrics.families.get('bento_batch_size')?.type, 'histogram')
    assert.equal(
      sampleValue(metrics, 'bento_batch_size_bucket', { ...base, api: 'embed', le: '1' }),
      1
    )
    assert.equal(sampleValue(metrics, 'bento_batch_size_count', { ...base, api: 'embed' }), 1)
    assert.equal(
      sampleValue(metrics, 'bento_batch_size_count', { ...base, api: 'greet' }),
      undefined
    )
    assert.equal(sampleValue(metrics, 'bento_workers', base), 1)

    gate.resolve()
    assert.equal((await held).status, 200)
    assert.equal((await queued).status, 200)
    const after = parsePrometheus(await (await app.request('/metrics')).text())
    assert.equal(sampleValue(after, 'http_server_active_requests', { ...base, api: 'hold' }), 0)
    assert.equal(sampleValue(after, 'bento_queue_depth', base), 0)
  })

  test('label values are escaped', async () => {
    const s = service({ name: unique('escape'), apis: { a: api({ handler: () => 1 }) } })
    const app = toHono(s)
    await call(app, 'POST', '/a')
    setGatherTransport(async () => [
      {
        worker: 1,
        services: {
          [s.name]: {
            apis: {
              'we"ird\\api\nx': {
                method: 'POST',
                route: '/we"ird',
                requests: { 200: 1 },
                latency: { 200: { counts: [...new Array(14).fill(0), 1], sum: 0, count: 1 } },
                inFlight: 0,
              },
            },
            queue: 0,
          },
        },
      },
    ])
    try {
      const metrics = parsePrometheus(await (await app.request('/metrics')).text())
      assert.equal(sampleValue(metrics, 'bento_requests_total', { api: 'we"ird\\api\nx' }), 1)
    } finally {
      setGatherTransport(undefined)
    }
  })

  test('under a supervisor /metrics sums every worker and labels in-flight by worker', async () => {
    const s = service({ name: unique('summed'), apis: { greet: api({ handler: () => 'hi' }) } })
    const app = toHono(s)
    await call(app, 'POST', '/greet')
    const local = (await import('@bento/core/internal')).localAnswer
    const own = (await local('metrics')) as { services: Record<string, unknown> }
    assert.ok(own.services[s.name], 'this worker answers for the service')
    const other = structuredClone(own) as {
      worker: number
      services: Record<string, { apis: Record<string, { inFlight: number }> }>
    }
    other.worker = 2
    other.services[s.name]!.apis.greet!.inFlight = 3
    setGatherTransport(async (topic) => {
      assert.equal(topic, 'metrics')
      return [own, other]
    })
    setWorkerStatus('ready')
    try {
      const metrics = parsePrometheus(await (await app.request('/metrics')).text())
      const base = { service: s.name }
      assert.equal(
        sampleValue(metrics, 'bento_requests_total', { ...base, api: 'greet', status: '200' }),
        2
      )
      assert.equal(
        sampleValue(metrics, 'http_server_request_duration_seconds_count', {
          ...base,
          api: 'greet',
          http_response_status_code: '200',
        }),
        2
      )
      assert.equal(
        sampleValue(metrics, 'http_server_active_requests', { ...base, api: 'greet' }),
        3
      )
      assert.equal(sampleValue(metrics, 'bento_workers', base), 2)
      assert.equal(
        sampleValue(metrics, 'bento_worker_requests_in_flight', { ...base, worker: '1' }),
        0
      )
      assert.equal(
        sampleValue(metrics, 'bento_worker_requests_in_flight', { ...base, worker: '2' }),
        3
      )
    } finally {
      setGatherTransport(undefined)
      setWorkerStatus('starting')
    }
  })

  test('a supervisor that does not answer leaves /metrics to this worker', async () => {
    const s = service({ name: unique('lonely'), apis: { a: api({ handler: () => 1 }) } })
    const app = toHono(s)
    await call(app, 'POST', '/a')
    setGatherTransport(() => Promise.reject(new Error('ipc closed')))
    try {
      const metrics = parsePrometheus(await (await app.request('/metrics')).text())
      assert.equal(
        sampleValue(metrics, 'bento_requests_total', { service: s.name, api: 'a', status: '200' }),
        1
      )
    } finally {
      setGatherTransport(undefined)
    }
  })
})
