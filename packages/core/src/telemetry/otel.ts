// The OpenTelemetry SDK of one worker, loaded by dynamic import only when telemetry is configured:
// a tracer provider batching spans to OTLP/HTTP, a meter provider exporting the same request
// metrics as /metrics, and an AsyncLocalStorage context, so a span a handler starts itself nests
// under bento's. On Deno with OTEL_DENO=true Deno already runs all of that (and a server span for
// each request), so bento only adds its spans to Deno's.
import type * as Api from '@opentelemetry/api'
import type * as MetricsSdk from '@opentelemetry/sdk-metrics'
import type * as TraceSdk from '@opentelemetry/sdk-trace'
import { BentoConfigError } from '../errors.ts'
import type { TelemetryConfig } from './config.ts'
import { INSTRUMENTS } from './instruments.ts'
import type * as Sdk from './otel-sdk.ts'
import type { Telemetry, TracedApi, TracedCall, TracedRequest } from './telemetry.ts'
import { childTraceparent, parseTraceparent, traceOf } from './trace.ts'

// The bundled SDK (see otel-sdk.ts), named in a variable so that bundlers (the edge build, `bento
// build`) leave the import alone: nothing of OpenTelemetry is bundled or loaded unless a worker gets
// this far. From the sources (tests), the module that re-exports the installed packages.
const SDK = import.meta.url.endsWith('.ts') ? './otel-sdk.ts' : './otel-sdk.js'

async function loadSdk(config: TelemetryConfig): Promise<typeof Sdk> {
  try {
    return (await import(SDK)) as typeof Sdk
  } catch (error) {
    const variable = config.deno ? 'OTEL_DENO' : 'OTEL_EXPORTER_OTLP_ENDPOINT'
    throw new BentoConfigError({
      field: variable,
      problem: `asks for OpenTelemetry, but the SDK bundled with @bento/core could not be loaded (${(error as Error).message})`,
      fix: `reinstall @bento/core (its dist/telemetry/otel-sdk.js is missing or damaged), or unset ${variable}`,
    })
  }
}

// Each distinct error of the exporter once: a collector that is down must not print a line per
// batch for as long as it stays down.
function onceLogger(log: (message: string) => void): Api.DiagLogger {
  const seen = new Set<string>()
  const once = (message: string, ...args: unknown[]) => {
    const text = [message, ...args.map((a) => (a instanceof Error ? a.message : String(a)))]
      .map(readable)
      .join(' ')
      .slice(0, 500)
    if (seen.has(text) || seen.size >= 20) return
    seen.add(text)
    log(`telemetry: ${text} (check OTEL_EXPORTER_OTLP_ENDPOINT; said once, repeats are not logged)`)
  }
  const quiet = () => {}
  return { error: once, warn: once, info: quiet, debug: quiet, verbose: quiet }
}

// The SDK's error handler logs an exception as its JSON; its message is what a person needs.
function readable(text: string): string {
  if (!text.startsWith('{')) return text
  try {
    const parsed = JSON.parse(text) as { message?: unknown }
    return typeof parsed.message === 'string' ? `export failed: ${parsed.message}` : text
  } catch {
    return text
  }
}

/**
 * Starts the worker's OpenTelemetry SDK as `config` says and registers it globally.
 * @example
 * setTelemetry(await startOtel(config, (line) => console.error(line)))
 */
export async function startOtel(
  config: TelemetryConfig,
  log: (message: string) => void
): Promise<Telemetry> {
  const sdk = await loadSdk(config)
  const { api } = sdk
  api.diag.setLogger(onceLogger(log), api.DiagLogLevel.WARN)
  if (config.protocolNote !== undefined) log(`telemetry: ${config.protocolNote}`)
  if (config.deno) return new OtelTelemetry(api, config, { denoServes: true, tracing: true })

  const resource = sdk.resourceFromAttributes(config.resource)
  api.context.setGlobalContextManager(new sdk.AsyncLocalStorageContextManager().enable())

  let traces: TraceSdk.TracerProvider | undefined
  if (config.tracesUrl !== undefined) {
    const { ratio, parentBased } = config.sampler
    const root =
      ratio >= 1
        ? new sdk.traces.AlwaysOnSampler()
        : ratio <= 0
          ? new sdk.traces.AlwaysOffSampler()
          : new sdk.traces.TraceIdRatioBasedSampler(ratio)
    traces = new sdk.traces.TracerProvider({
      resource,
      sampler: parentBased ? new sdk.traces.ParentBasedSampler({ root }) : root,
      spanProcessors: [
        new sdk.traces.BatchSpanProcessor({
          exporter: new sdk.OTLPTraceExporter({ url: config.tracesUrl }),
          ...config.batch,
        }),
      ],
    })
    api.trace.setGlobalTracerProvider(traces)
  }

  let meters: MetricsSdk.MeterProvider | undefined
  if (config.metricsUrl !== undefined) {
    const reader = new sdk.metrics.PeriodicExportingMetricReader({
      exporter: new sdk.OTLPMetricExporter({ url: config.metricsUrl }),
      exportIntervalMillis: config.metricsIntervalMs,
      exportTimeoutMillis: Math.min(30_000, config.metricsIntervalMs),
    })
    meters = new sdk.metrics.MeterProvider({ resource, readers: [reader] })
    api.metrics.setGlobalMeterProvider(meters)
  }
  const shutdown = async () => {
    await Promise.all([traces?.shutdown(), meters?.shutdown()])
  }
  return new OtelTelemetry(api, config, {
    meters,
    close: shutdown,
    denoServes: false,
    tracing: traces !== undefined,
  })
}

interface Instruments {
  duration: Api.Histogram
  active: Api.UpDownCounter
  batch: Api.Histogram
  calls: Api.Histogram
}

class OtelTelemetry implements Telemetry {
  readonly tracer: Api.Tracer
  readonly instruments: Instruments | undefined

  private readonly close: (() => Promise<void>) | undefined
  /** Deno's server span is the request's: bento names it and works under it. */
  private readonly denoServes: boolean
  /** False when only metrics are exported: requests still carry a trace id, unrecorded. */
  private readonly tracing: boolean

  constructor(
    readonly api: typeof Sdk.api,
    readonly config: TelemetryConfig,
    how: {
      meters?: Api.MeterProvider
      close?: () => Promise<void>
      denoServes: boolean
      tracing: boolean
    }
  ) {
    const { meters } = how
    this.close = how.close
    this.denoServes = how.denoServes
    this.tracing = how.tracing
    this.tracer = api.trace.getTracer('@bento/core')
    const meter =
      meters?.getMeter('@bento/core') ??
      (how.denoServes ? api.metrics.getMeter('@bento/core') : undefined)
    this.instruments = meter && {
      duration: meter.createHistogram(...histogramOf(INSTRUMENTS.requestDuration)),
      active: meter.createUpDownCounter(INSTRUMENTS.activeRequests.otel, {
        description: INSTRUMENTS.activeRequests.description,
        unit: INSTRUMENTS.activeRequests.unit,
      }),
      batch: meter.createHistogram(...histogramOf(INSTRUMENTS.batchSize)),
      calls: meter.createHistogram(...histogramOf(INSTRUMENTS.dependencyDuration)),
    }
  }

  request(request: Pick<Request, 'headers' | 'url'>, api: TracedApi, local = false): TracedRequest {
    const { api: otel } = this
    if (!this.tracing) {
      this.instruments?.active.add(1, {
        'http.request.method': api.method,
        'http.route': api.route,
      })
      const trace = traceOf(request.headers.get('traceparent'))
      return new UnsampledRequest(this, api, trace.id, () => childTraceparent(trace))
    }
    let parent = otel.ROOT_CONTEXT
    let span: Api.Span
    const served = this.denoServes && !local
    if (served) {
      // Deno.serve's own span is current: it becomes this request's server span.
      parent = otel.context.active()
      span = otel.trace.getSpan(parent) ?? otel.trace.wrapSpanContext(otel.INVALID_SPAN_CONTEXT)
      span.updateName(`${api.method} ${api.route}`)
      span.setAttribute('http.route', api.route)
      span.setAttribute('bento.api', api.name)
    } else {
      const caller = parseTraceparent(request.headers.get('traceparent'))
      if (caller !== undefined) {
        parent = otel.trace.setSpanContext(parent, {
          traceId: caller.traceId,
          spanId: caller.spanId,
          traceFlags: Number.parseInt(caller.flags, 16) & 1,
          isRemote: true,
        })
      }
      // The attributes are set once sampled: the samplers bento configures (config.ts) decide
      // from the trace alone, and an unsampled request then costs no URL parse or header read.
      span = this.tracer.startSpan(
        `${api.method} ${api.route}`,
        { kind: otel.SpanKind.SERVER },
        parent
      )
      if (span.isRecording()) {
        span.setAttributes({
          'http.request.method': api.method,
          'http.route': api.route,
          'url.path': pathOf(request.url),
          'bento.api': api.name,
          'bento.service': api.service,
          ...(request.headers.has('user-agent') && {
            'user_agent.original': request.headers.get('user-agent')!,
          }),
        })
      }
    }
    this.instruments?.active.add(1, { 'http.request.method': api.method, 'http.route': api.route })
    // Not sampled: no handler span and no context to carry; calls still pass the trace on.
    if (!span.isRecording()) {
      const { traceId, spanId } = span.spanContext()
      const traceparent = `00-${traceId}-${spanId}-00`
      return new UnsampledRequest(this, api, traceId, () => traceparent)
    }
    return new OtelRequest(this, api, span, otel.trace.setSpan(parent, span), !served)
  }

  batch<T>(api: TracedApi, requests: ReadonlyArray<TracedRequest | undefined>, run: () => T): T {
    const traced = requests.filter((r): r is OtelRequest => r instanceof OtelRequest)
    this.instruments?.batch.record(requests.length, { 'bento.api': api.name })
    if (traced.length === 0) return run()
    const { api: otel } = this
    const first = traced[0]
    const span = this.tracer.startSpan(
      `batch ${api.name}`,
      {
        kind: otel.SpanKind.INTERNAL,
        attributes: { 'bento.api': api.name, 'bento.batch.size': requests.length },
        links: traced.map((r) => ({ context: r.span.spanContext() })),
      },
      first?.context ?? otel.ROOT_CONTEXT
    )
    return settle(this, span, otel.trace.setSpan(first?.context ?? otel.ROOT_CONTEXT, span), run)
  }

  async shutdown(ms: number): Promise<void> {
    if (this.close === undefined) return
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      this.close().catch(() => {}),
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, ms)
      }),
    ])
    clearTimeout(timer)
  }
}

/** Runs `run` with `span` current in `context`, ending the span when it settles. */
function settle<T>(owner: OtelTelemetry, span: Api.Span, context: Api.Context, run: () => T): T {
  const { api } = owner
  const fail = (error: unknown) => {
    span.recordException(error instanceof Error ? error : String(error))
    span.setStatus({
      code: api.SpanStatusCode.ERROR,
      message: String((error as Error)?.message ?? error),
    })
    span.end()
  }
  let result: T
  try {
    result = api.context.with(context, run)
  } catch (error) {
    fail(error)
    throw error
  }
  if (result instanceof Promise) {
    result.then(
      () => span.end(),
      (error: unknown) => fail(error)
    )
  } else span.end()
  return result
}

class OtelRequest implements TracedRequest {
  readonly traceId: string
  readonly #started = performance.now()

  constructor(
    readonly owner: OtelTelemetry,
    readonly api: TracedApi,
    readonly span: Api.Span,
    readonly context: Api.Context,
    /** False where the span is Deno.serve's, which Deno ends when the response is sent. */
    readonly ownsSpan: boolean
  ) {
    this.traceId = span.spanContext().traceId
  }

  handle<T>(run: () => T): T {
    const { api } = this.owner
    const span = this.owner.tracer.startSpan(
      `handler ${this.api.name}`,
      { kind: api.SpanKind.INTERNAL, attributes: { 'bento.api': this.api.name } },
      this.context
    )
    return settle(this.owner, span, api.trace.setSpan(this.context, span), run)
  }

  call(callee: string, target: { name: string; method: string; route: string }): TracedCall {
    const { api, tracer, instruments } = this.owner
    // Under the handler's span when the call is made from it (the usual case), else the request's.
    const current = api.context.active()
    const inTrace = api.trace.getSpanContext(current)?.traceId === this.traceId
    const span = tracer.startSpan(
      `${target.method} ${target.route}`,
      {
        kind: api.SpanKind.CLIENT,
        attributes: {
          'http.request.method': target.method,
          'peer.service': callee,
          'bento.dependency': callee,
          'bento.dependency.api': target.name,
        },
      },
      inTrace ? current : this.context
    )
    const context = span.spanContext()
    const flags = (context.traceFlags & 1) === 1 ? '01' : '00'
    return {
      traceparent: `00-${context.traceId}-${context.spanId}-${flags}`,
      end: (outcome, seconds) => {
        const attributes: Api.Attributes = {
          'http.request.method': target.method,
          'peer.service': callee,
          'bento.dependency.api': target.name,
        }
        if (typeof outcome === 'number') {
          attributes['http.response.status_code'] = outcome
          span.setAttribute('http.response.status_code', outcome)
        } else {
          attributes['error.type'] = outcome
          span.setAttribute('error.type', outcome)
        }
        if (typeof outcome !== 'number' || outcome >= 400) {
          span.setStatus({ code: api.SpanStatusCode.ERROR })
        }
        span.end()
        instruments?.calls.record(seconds, attributes)
      },
    }
  }

  end(status: number, error?: unknown): void {
    const { api } = this.owner
    const { span } = this
    span.setAttribute('http.response.status_code', status)
    if (status >= 500) {
      span.setAttribute('error.type', String(status))
      span.setStatus({
        code: api.SpanStatusCode.ERROR,
        ...(error instanceof Error && { message: error.message }),
      })
    }
    if (this.ownsSpan) span.end()
    recordRequest(this.owner, this.api, status, this.#started)
  }
}

function recordRequest(owner: OtelTelemetry, api: TracedApi, status: number, started: number) {
  const { instruments } = owner
  if (instruments === undefined) return
  const attributes = { 'http.request.method': api.method, 'http.route': api.route }
  instruments.active.add(-1, attributes)
  instruments.duration.record((performance.now() - started) / 1000, {
    ...attributes,
    'http.response.status_code': status,
    'bento.api': api.name,
  })
}

/** A request whose trace is not sampled here: its id and flags go on, nothing is recorded. */
class UnsampledRequest implements TracedRequest {
  readonly #started = performance.now()

  constructor(
    readonly owner: OtelTelemetry,
    readonly api: TracedApi,
    readonly traceId: string,
    /** The `traceparent` of a call: the request's, or a fresh span id in its trace. */
    readonly traceparent: () => string
  ) {}

  handle<T>(run: () => T): T {
    return run()
  }

  call(callee: string, target: { name: string; method: string; route: string }): TracedCall {
    const { instruments } = this.owner
    return {
      traceparent: this.traceparent(),
      end: (outcome, seconds) => {
        instruments?.calls.record(seconds, {
          'http.request.method': target.method,
          'peer.service': callee,
          'bento.dependency.api': target.name,
          ...(typeof outcome === 'number'
            ? { 'http.response.status_code': outcome }
            : { 'error.type': outcome }),
        })
      },
    }
  }

  end(status: number): void {
    recordRequest(this.owner, this.api, status, this.#started)
  }
}

// The path of a request URL without parsing it whole (a URL object per request is measurable).
function pathOf(url: string): string {
  const start = url.indexOf('/', url.indexOf('//') + 2)
  if (start === -1) return '/'
  const end = url.indexOf('?', start)
  return end === -1 ? url.slice(start) : url.slice(start, end)
}

// An OpenTelemetry histogram's name and options, from bento's definition of it.
function histogramOf(instrument: {
  otel: string
  description: string
  unit: string
  buckets: readonly number[]
}): [
  string,
  { description: string; unit: string; advice: { explicitBucketBoundaries: number[] } },
] {
  const { otel, description, unit, buckets } = instrument
  return [otel, { description, unit, advice: { explicitBucketBoundaries: [...buckets] } }]
}
