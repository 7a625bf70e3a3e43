// An OTLP/HTTP receiver for tests, on 127.0.0.1: it takes what the official OpenTelemetry JS
// exporters send (JSON, `POST /v1/traces` and `/v1/metrics`), decodes it into plain spans and
// metric names, and lets a test wait until what it expects has arrived.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterEach } from 'vitest'

type AnyValue = {
  stringValue?: string
  intValue?: string | number
  boolValue?: boolean
  doubleValue?: number
}
type KeyValue = { key: string; value: AnyValue }

/** One span as received, with its resource's and its own attributes flattened. */
export interface ReceivedSpan {
  traceId: string
  spanId: string
  parentSpanId: string | undefined
  name: string
  /** 1 internal, 2 server, 3 client. */
  kind: number
  attributes: Record<string, string | number | boolean>
  resource: Record<string, string | number | boolean>
  links: Array<{ traceId: string; spanId: string }>
  /** 0 unset, 1 ok, 2 error. */
  status: number
}

/** One metric data point's name, attributes and resource. */
export interface ReceivedMetric {
  name: string
  description: string
  unit: string
  attributes: Record<string, string | number | boolean>
  resource: Record<string, string | number | boolean>
  /** Histogram count or sum value. */
  value: number
}

function value(v: AnyValue): string | number | boolean {
  if (v.stringValue !== undefined) return v.stringValue
  if (v.intValue !== undefined) return Number(v.intValue)
  if (v.doubleValue !== undefined) return v.doubleValue
  return v.boolValue ?? ''
}

function flat(list: KeyValue[] | undefined): Record<string, string | number | boolean> {
  return Object.fromEntries((list ?? []).map(({ key, value: v }) => [key, value(v)]))
}

const live = new Set<Server>()
afterEach(async () => {
  await Promise.all(
    [...live].map((server) => {
      live.delete(server)
      server.closeAllConnections()
      return new Promise((resolve) => server.close(resolve))
    })
  )
})

/** A receiver the test owns; it is closed after the test. */
export interface Receiver {
  /** `http://127.0.0.1:PORT`, for OTEL_EXPORTER_OTLP_ENDPOINT. */
  url: string
  spans: ReceivedSpan[]
  metrics: ReceivedMetric[]
  /** Requests that were not OTLP JSON (content type and path), to fail on. */
  rejected: string[]
  /** Resolves once `check` is true of what arrived, polling; rejects after `ms`. */
  until(check: () => boolean, ms?: number): Promise<void>
}

/**
 * Starts an OTLP/HTTP JSON receiver on 127.0.0.1.
 * @example
 * const otlp = await startReceiver()
 * startBento('node', ['serve'], { cwd, env: { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url } })
 */
export async function startReceiver(): Promise<Receiver> {
  const spans: ReceivedSpan[] = []
  const metrics: ReceivedMetric[] = []
  const rejected: string[] = []
  const server = createServer((request, response) => {
    const chunks: Buffer[] = []
    request.on('data', (chunk: Buffer) => chunks.push(chunk))
    request.on('end', () => {
      const type = request.headers['content-type'] ?? ''
      if (request.method !== 'POST' || !type.includes('json')) {
        rejected.push(`${request.method} ${request.url} ${type}`)
        response.writeHead(415).end()
        return
      }
      // biome-ignore lint/suspicious/noExplicitAny: the OTLP JSON shape, read field by field
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as any
      if (request.url === '/v1/traces') {
        for (const rs of body.resourceSpans ?? []) {
          const resource = flat(rs.resource?.attributes)
          for (const ss of rs.scopeSpans ?? []) {
            for (const s of ss.spans ?? []) {
              spans.push({
                traceId: s.traceId,
                spanId: s.spanId,
                parentSpanId: s.parentSpanId || undefined,
                name: s.name,
                kind: s.kind,
                attributes: flat(s.attributes),
                resource,
                links: (s.links ?? []).map((l: { traceId: string; spanId: string }) => ({
                  traceId: l.traceId,
                  spanId: l.spanId,
                })),
                status: s.status?.code ?? 0,
              })
            }
          }
        }
      } else if (request.url === '/v1/metrics') {
        for (const rm of body.resourceMetrics ?? []) {
          const resource = flat(rm.resource?.attributes)
          for (const sm of rm.scopeMetrics ?? []) {
            for (const m of sm.metrics ?? []) {
              const points =
                m.histogram?.dataPoints ?? m.sum?.dataPoints ?? m.gauge?.dataPoints ?? []
              for (const p of points) {
                metrics.push({
                  name: m.name,
                  description: m.description ?? '',
                  unit: m.unit ?? '',
                  attributes: flat(p.attributes),
                  resource,
                  value: Number(p.count ?? p.asInt ?? p.asDouble ?? 0),
                })
              }
            }
          }
        }
      } else rejected.push(`POST ${request.url}`)
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}')
    })
  })
  live.add(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as AddressInfo
  return {
    url: `http://127.0.0.1:${port}`,
    spans,
    metrics,
    rejected,
    async until(check, ms = 20_000) {
      const deadline = Date.now() + ms
      while (!check()) {
        if (Date.now() > deadline) {
          throw new Error(
            `the receiver did not get what was expected in ${ms} ms; spans: ${spans.map((s) => `${s.resource['service.name']}:${s.name}`).join(', ')}; rejected: ${rejected.join(', ')}`
          )
        }
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
    },
  }
}
