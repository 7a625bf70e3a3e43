// The SDK as a worker runs it, in this process: spans reach a real OTLP/HTTP receiver with the
// parent, links and attributes the adapter asked for. (Across processes and runtimes:
// test/telemetry.test.ts.)
import { afterEach, describe, expect, it } from 'vitest'
import { startReceiver } from '../../../../test/support/otlp.ts'
import { normalizeTracing } from '../service/tracing.ts'
import { telemetryConfig } from './config.ts'
import { INSTRUMENTS } from './instruments.ts'
import { startOtel } from './otel.ts'
import type { Telemetry } from './telemetry.ts'

const tracing = normalizeTracing(undefined, () => {
  throw new Error('valid')
})
const api = { service: 'hello', name: 'greet', method: 'POST', route: '/greet' }
let telemetry: Telemetry | undefined
afterEach(async () => {
  await telemetry?.shutdown(2000)
  telemetry = undefined
})

describe('startOtel', () => {
  it('exports a server span, its handler and client spans, and a batch linked to requests', async () => {
    const otlp = await startReceiver()
    const config = telemetryConfig(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_METRICS_EXPORTER: 'none' },
      tracing,
      { service: 'hello', workerIndex: 1, hostname: 'here', runtime: 'node' }
    )!
    const logged: string[] = []
    telemetry = await startOtel(config, (line) => logged.push(line))
    const parent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const requests = [parent, undefined].map((traceparent) =>
      telemetry!.request(
        new Request('http://127.0.0.1/greet', {
          method: 'POST',
          headers: traceparent === undefined ? {} : { traceparent },
        }),
        api
      )
    )
    const [first, second] = requests as [NonNullable<(typeof requests)[0]>, (typeof requests)[1]]
    expect(first.traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(second!.traceId).not.toBe(first.traceId)
    const call = await first.handle(async () => {
      const call = first.call('embedder', { name: 'embed', method: 'POST', route: '/embed' })
      call.end(200, 0.01)
      return call
    })
    expect(call.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(telemetry.batch(api, requests, () => 'ran')).toBe('ran')
    first.end(200)
    second!.end(500, new Error('boom'))
    await telemetry.shutdown(2000)
    telemetry = undefined

    const spans = otlp.spans
    const server = spans.find((s) => s.traceId === first.traceId && s.kind === 2)!
    expect(server).toMatchObject({ parentSpanId: '00f067aa0ba902b7', name: 'POST /greet' })
    const handler = spans.find((s) => s.name === 'handler greet')!
    expect(handler.parentSpanId).toBe(server.spanId)
    const client = spans.find((s) => s.kind === 3)!
    expect(client.parentSpanId).toBe(handler.spanId)
    expect(call.traceparent).toContain(client.spanId)
    const batch = spans.find((s) => s.name === 'batch greet')!
    expect(batch.parentSpanId).toBe(server.spanId)
    expect(batch.links.map((l) => l.traceId).sort()).toEqual(
      [first.traceId, second!.traceId].sort()
    )
    const failed = spans.find((s) => s.traceId === second!.traceId && s.kind === 2)!
    expect(failed.status).toBe(2)
    expect(failed.attributes['http.response.status_code']).toBe(500)
    expect(logged).toEqual([])
  })

  it("with metrics alone, still names each request's trace and exports its duration", async () => {
    const otlp = await startReceiver()
    const config = telemetryConfig(
      { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_TRACES_EXPORTER: 'none' },
      tracing,
      { service: 'hello', workerIndex: 1, hostname: 'here', runtime: 'node' }
    )!
    telemetry = await startOtel(config, () => {})
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    const joined = telemetry.request(
      new Request('http://127.0.0.1/greet', {
        headers: { traceparent: `00-${id}-00f067aa0ba902b7-01` },
      }),
      api
    )
    expect(joined.traceId).toBe(id)
    expect(joined.call('x', { name: 'y', method: 'POST', route: '/y' }).traceparent).toMatch(
      new RegExp(`^00-${id}-[0-9a-f]{16}-01$`)
    )
    const fresh = telemetry.request(new Request('http://127.0.0.1/greet'), api)
    expect(fresh.traceId).toMatch(/^[0-9a-f]{32}$/)
    expect(fresh.traceId).not.toMatch(/^0+$/)
    joined.end(200)
    fresh.end(404)
    // Shutting down exports the last metrics.
    await telemetry.shutdown(2000)
    telemetry = undefined
    expect(otlp.spans).toEqual([])
    const durations = otlp.metrics.filter((m) => m.name === 'http.server.request.duration')
    expect(durations.map((m) => m.attributes['http.response.status_code']).sort()).toEqual([
      200, 404,
    ])
    // Named, described and measured as the one definition that /metrics renders too.
    const { requestDuration, activeRequests } = INSTRUMENTS
    expect(durations[0]).toMatchObject({
      description: requestDuration.description,
      unit: requestDuration.unit,
    })
    const active = otlp.metrics.find((m) => m.name === activeRequests.otel)
    expect(active).toMatchObject({
      description: activeRequests.description,
      unit: activeRequests.unit,
    })
  })
})
