// OpenTelemetry across processes, against a real OTLP/HTTP receiver on 127.0.0.1 that decodes what
// the official exporter sends: a request through the composed example (search -> classifier) is
// one trace covering both services, with the batch span linked to the requests it served; an
// incoming traceparent is honoured and the trace id comes back in x-trace-id; sampling off exports
// nothing; a collector that is down fails no request and is reported once. On Node, Bun and Deno.
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, repoRoot, startBento } from './support/bento.ts'
import { type ReceivedSpan, startReceiver } from './support/otlp.ts'

const pipeline = `${repoRoot}examples/search-pipeline`
const hello = `${repoRoot}examples/hello`
const model = fileURLToPath(
  new URL('../examples/onnx-classifier/model/model.onnx', import.meta.url)
)
const serve = ['serve', '--port', '0', '--host', '127.0.0.1']

const SERVER = 2
const CLIENT = 3
const TRACE = '4bf92f3577b34da6a3ce929d0e0e4736'
const PARENT = '00f067aa0ba902b7'

beforeAll(() => {
  if (!existsSync(model)) {
    throw new Error(
      `${model} is missing: run \`pnpm --filter @bento/example-onnx-classifier build\``
    )
  }
})

// Exports quickly, so a test waits for spans in a fraction of a second rather than 5 s.
const quick = { OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_METRIC_EXPORT_INTERVAL: '500' }

describe.each(RUNTIMES)('tracing on %s', (runtime) => {
  it('follows a request through both services of the pipeline as one trace', async () => {
    const otlp = await startReceiver()
    const bento = startBento(runtime, serve, {
      cwd: pipeline,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, ...quick },
    })
    const url = await bento.url(90_000)
    const traceparent = `00-${TRACE}-${PARENT}-01`
    const response = await fetch(`${url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent },
      body: JSON.stringify({ q: 'ramen lunch bento', limit: 6 }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-trace-id')).toBe(TRACE)
    const { hits } = (await response.json()) as { hits: unknown[] }
    expect(hits.length).toBeGreaterThanOrEqual(4)

    const ours = () => otlp.spans.filter((s) => s.traceId === TRACE)
    const named = (service: string, kind: number) =>
      ours().filter((s) => s.resource['service.name'] === service && s.kind === kind)
    // Every call's span, and the classifier's server span of each call, have arrived.
    await otlp.until(
      () =>
        named('search', SERVER).length === 1 &&
        named('search', CLIENT).length === hits.length &&
        named('classifier', SERVER).length === hits.length &&
        ours().filter((s) => s.name === 'batch classify').length > 0 &&
        // Batches end after their requests' calls: wait until each call's batch is in.
        new Set(ours().flatMap((s) => s.links.map((l) => l.spanId))).size === hits.length
    )
    const root = named('search', SERVER)[0]!
    // The incoming traceparent is the server span's parent.
    expect(root.parentSpanId).toBe(PARENT)
    expect(root.name).toBe('POST /search')
    expect(root.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/search',
      'http.response.status_code': 200,
    })
    // One instance per worker: the host, and the worker's index.
    expect(root.resource['service.instance.id']).toBe(
      `${hostname()}/${root.resource['bento.worker.index']}`
    )
    const handler = ours().find((s) => s.name === 'handler search')!
    expect(handler.parentSpanId).toBe(root.spanId)
    // Each client span is under the handler, and the callee's server span is its child.
    const clients = named('search', CLIENT)
    const byId = new Map(ours().map((s) => [s.spanId, s]))
    for (const call of clients) {
      expect(call.parentSpanId).toBe(handler.spanId)
      expect(call.attributes).toMatchObject({
        'peer.service': 'classifier',
        'http.response.status_code': 200,
      })
    }
    const callees = named('classifier', SERVER)
    expect(new Set(callees.map((s) => s.parentSpanId))).toEqual(
      new Set(clients.map((s) => s.spanId))
    )
    for (const callee of callees) expect(callee.attributes['http.route']).toBe('/classify')
    // Each batch span links every request it served; together they cover every call.
    const batches = ours().filter((s) => s.name === 'batch classify')
    const linked = batches.flatMap((b) => b.links)
    expect(linked.every((l) => byId.get(l.spanId)?.name === 'POST /classify')).toBe(true)
    expect(new Set(linked.map((l) => l.spanId))).toEqual(new Set(callees.map((s) => s.spanId)))
    for (const batch of batches) {
      expect(batch.attributes['bento.batch.size']).toBe(batch.links.length)
    }

    // A request without a traceparent starts a trace of its own, named in x-trace-id.
    const fresh = await postJson(`${url}/search`, { q: 'sushi' })
    const id = fresh.headers.get('x-trace-id')
    expect(id).toMatch(/^[0-9a-f]{32}$/)
    expect(id).not.toBe(TRACE)
    await otlp.until(() =>
      otlp.spans.some((s) => s.traceId === id && s.kind === SERVER && s.parentSpanId === undefined)
    )

    // The same request metrics as /metrics, exported over OTLP, named by the conventions.
    await otlp.until(() =>
      ['search', 'classifier'].every((service) =>
        otlp.metrics.some(
          (m) =>
            m.name === 'http.server.request.duration' &&
            m.resource['service.name'] === service &&
            m.attributes['http.response.status_code'] === 200 &&
            m.value > 0
        )
      )
    )
    expect(otlp.metrics.some((m) => m.name === 'http.client.request.duration')).toBe(true)
    expect(otlp.metrics.some((m) => m.name === 'bento.batch.size')).toBe(true)
    expect(otlp.rejected).toEqual([])
    expect((await bento.stop()).code).toBe(0)
  })

  it('exports nothing with sampling off, and still names the trace', async () => {
    const otlp = await startReceiver()
    const bento = startBento(runtime, [...serve, '--workers', '1'], {
      cwd: hello,
      env: {
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_TRACES_SAMPLER: 'always_off',
        OTEL_METRICS_EXPORTER: 'none',
        ...quick,
      },
    })
    const url = await bento.url()
    for (const traceparent of [undefined, `00-${TRACE}-${PARENT}-01`]) {
      const response = await fetch(`${url}/greet`, {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(traceparent !== undefined && { traceparent }),
        },
        body: JSON.stringify({ name: 'Ada' }),
      })
      expect(response.status).toBe(200)
      expect(response.headers.get('x-trace-id')).toMatch(/^[0-9a-f]{32}$/)
    }
    // A drained worker flushes what it has: had anything been sampled, it would be here now.
    expect((await bento.stop()).code).toBe(0)
    expect(otlp.spans).toEqual([])
    expect(otlp.rejected).toEqual([])
  })

  it('answers every request while the collector is down, and says so once', async () => {
    const bento = startBento(runtime, [...serve, '--workers', '1'], {
      cwd: hello,
      env: {
        // Nothing listens on port 9 (discard) here: every export is refused.
        OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9',
        OTEL_EXPORTER_OTLP_TIMEOUT: '300',
        ...quick,
      },
    })
    const url = await bento.url()
    const statuses: number[] = []
    const failing = () => bento.output.match(/telemetry: .*export/g) ?? []
    // Requests keep coming while export after export fails.
    const until = Date.now() + 20_000
    while ((failing().length === 0 || statuses.length < 40) && Date.now() < until) {
      statuses.push((await postJson(`${url}/greet`, { name: 'Ada' })).status)
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(new Set(statuses)).toEqual(new Set([200]))
    expect(statuses.length).toBeGreaterThanOrEqual(40)
    expect((await bento.stop()).code).toBe(0)
    const lines = bento.output.split('\n').filter((line) => line.includes('telemetry: '))
    // One line per distinct failure (the span and the metric exporter may word it alike or not),
    // never one per export or per request.
    expect(lines.length).toBeGreaterThanOrEqual(1)
    expect(lines.length).toBeLessThanOrEqual(3)
    expect(new Set(lines).size).toBe(lines.length)
  })
})

describe('tracing configuration', () => {
  it('refuses an OTEL_TRACES_SAMPLER it does not know before any worker starts', async () => {
    const bento = startBento('node', serve, {
      cwd: hello,
      env: { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:9', OTEL_TRACES_SAMPLER: 'sometimes' },
    })
    const { code } = await bento.exited
    expect(code).not.toBe(0)
    expect(bento.output).toContain('OTEL_TRACES_SAMPLER')
    expect(bento.output).toContain('parentbased_traceidratio')
    expect(bento.output).not.toMatch(/worker \d: ready/)
  })
})

describe('tracing on Deno with its own OpenTelemetry (OTEL_DENO=true)', () => {
  it("adds bento's spans to Deno's server span, and the calls to the callee's", async () => {
    const otlp = await startReceiver()
    const bento = startBento('deno', serve, {
      cwd: pipeline,
      env: {
        OTEL_DENO: 'true',
        // Deno's exporter speaks protobuf unless asked for JSON, which the receiver decodes.
        OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
        OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
        OTEL_DENO_CONSOLE: 'ignore',
      },
    })
    const url = await bento.url(90_000)
    const response = await fetch(`${url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent: `00-${TRACE}-${PARENT}-01` },
      body: JSON.stringify({ q: 'ramen lunch bento', limit: 4 }),
    })
    expect(response.status).toBe(200)
    expect(response.headers.get('x-trace-id')).toBe(TRACE)
    const ours = () => otlp.spans.filter((s: ReceivedSpan) => s.traceId === TRACE)
    const server = (service: string) =>
      ours().filter((s) => s.kind === SERVER && s.resource['service.name'] === service)
    await otlp.until(
      () =>
        server('search').length === 1 &&
        server('classifier').length === 4 &&
        ours().some((s) => s.name === 'handler search')
    )
    // Deno's own span is the request's server span, named by bento after the route.
    const root = server('search')[0]!
    expect(root.name).toBe('POST /search')
    expect(root.parentSpanId).toBe(PARENT)
    const handler = ours().find((s) => s.name === 'handler search')!
    expect(handler.parentSpanId).toBe(root.spanId)
    const clients = ours().filter((s) => s.kind === CLIENT && s.attributes['peer.service'])
    expect(clients.map((s) => s.parentSpanId)).toEqual(clients.map(() => handler.spanId))
    expect(new Set(server('classifier').map((s) => s.parentSpanId))).toEqual(
      new Set(clients.map((s) => s.spanId))
    )
    expect((await bento.stop()).code).toBe(0)
  })
})
