// What a worker exports, decided once at its start from the standard OTEL_* variables and its
// service's `tracing` section: a pure function of both, so every rule is tested without an SDK.
// `undefined` means nothing to export: no OpenTelemetry package is loaded and requests pay nothing.
import { BentoConfigError } from '../errors.ts'
import type { RuntimeName } from '../runtime/detect.ts'
import type { ResolvedTracing } from '../service/tracing.ts'

/** How new traces are sampled (OTEL_TRACES_SAMPLER's values, parsed). */
export interface SamplerConfig {
  /** Fraction of the traces started here that are recorded. */
  ratio: number
  /** Follow the caller's choice for a request that arrives with a `traceparent`. */
  parentBased: boolean
}

/** What one worker exports, and as what. */
export interface TelemetryConfig {
  /** `service.name`, `service.instance.id` and the rest of the resource. */
  resource: Record<string, string>
  /** Where spans go (OTLP/HTTP), or `undefined` when only metrics are exported. */
  tracesUrl: string | undefined
  /** Where metrics go (OTLP/HTTP), or `undefined`. */
  metricsUrl: string | undefined
  /** Milliseconds between metric exports (OTEL_METRIC_EXPORT_INTERVAL). */
  metricsIntervalMs: number
  sampler: SamplerConfig
  /** The span batcher's settings, from the OTEL_BSP_* variables (the SDK no longer reads them). */
  batch: {
    scheduledDelayMillis: number
    exportTimeoutMillis: number
    maxQueueSize: number
    maxExportBatchSize: number
  }
  /**
   * Deno's own OpenTelemetry is on (`OTEL_DENO=true`): it owns the SDK, the export and the HTTP
   * server span; bento adds its spans to Deno's.
   */
  deno: boolean
  /** OTEL_EXPORTER_OTLP_PROTOCOL asked for something other than http/json; bento says so once. */
  protocolNote: string | undefined
}

/** Who this worker is. */
export interface WorkerIdentity {
  service: string
  workerIndex: number
  hostname: string
  runtime: RuntimeName
}

const SAMPLERS = [
  'always_on',
  'always_off',
  'traceidratio',
  'parentbased_always_on',
  'parentbased_always_off',
  'parentbased_traceidratio',
] as const

function configError(field: string, problem: string, fix: string): never {
  throw new BentoConfigError({ field, problem, fix })
}

function signalUrl(env: Record<string, string | undefined>, signal: 'traces' | 'metrics') {
  const upper = signal.toUpperCase()
  const exporter = env[`OTEL_${upper}_EXPORTER`]?.trim()
  if (exporter === 'none') return undefined
  if (exporter !== undefined && exporter !== '' && exporter !== 'otlp') {
    configError(
      `OTEL_${upper}_EXPORTER`,
      `is "${exporter}"; bento exports ${signal} over OTLP only`,
      `set it to otlp (or none), and point OTEL_EXPORTER_OTLP_ENDPOINT at a collector`
    )
  }
  const own = env[`OTEL_EXPORTER_OTLP_${upper}_ENDPOINT`]?.trim()
  const base = env.OTEL_EXPORTER_OTLP_ENDPOINT?.trim()
  const url = own || (base ? `${base.replace(/\/+$/, '')}/v1/${signal}` : undefined)
  if (url !== undefined && !/^https?:\/\/[^/\s]/.test(url)) {
    configError(
      own ? `OTEL_EXPORTER_OTLP_${upper}_ENDPOINT` : 'OTEL_EXPORTER_OTLP_ENDPOINT',
      `is "${own || base}", not an http(s) URL`,
      "set it to the collector's OTLP/HTTP address, e.g. http://otel-collector:4318"
    )
  }
  return url
}

function samplerOf(
  env: Record<string, string | undefined>,
  tracing: ResolvedTracing
): SamplerConfig {
  const name = env.OTEL_TRACES_SAMPLER?.trim()
  if (name === undefined || name === '') return { ratio: tracing.sampleRate, parentBased: true }
  if (!(SAMPLERS as readonly string[]).includes(name)) {
    configError(
      'OTEL_TRACES_SAMPLER',
      `is "${name}", not a sampler bento knows`,
      `use one of ${SAMPLERS.join(', ')}`
    )
  }
  const parentBased = name.startsWith('parentbased_')
  if (name.endsWith('always_on')) return { ratio: 1, parentBased }
  if (name.endsWith('always_off')) return { ratio: 0, parentBased }
  const arg = env.OTEL_TRACES_SAMPLER_ARG?.trim()
  if (arg === undefined || arg === '') return { ratio: 1, parentBased }
  const ratio = Number(arg)
  if (!(ratio >= 0 && ratio <= 1)) {
    configError(
      'OTEL_TRACES_SAMPLER_ARG',
      `is "${arg}", not a ratio from 0 to 1`,
      'set it to e.g. 0.1 to record one trace in ten'
    )
  }
  return { ratio, parentBased }
}

// OTEL_RESOURCE_ATTRIBUTES: `key=value,key=value`, values percent-encoded.
function resourceAttributes(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = {}
  for (const pair of (text ?? '').split(',')) {
    const at = pair.indexOf('=')
    if (at <= 0) continue
    const key = pair.slice(0, at).trim()
    try {
      out[key] = decodeURIComponent(pair.slice(at + 1).trim())
    } catch {
      out[key] = pair.slice(at + 1).trim()
    }
  }
  return out
}

/**
 * What a worker of `who.service` exports, or `undefined` when nothing is configured (or
 * OTEL_SDK_DISABLED is true). Throws a `BentoConfigError` naming the variable that is wrong.
 * @example
 * telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://127.0.0.1:4318' }, tracing, who)
 * // { tracesUrl: 'http://127.0.0.1:4318/v1/traces', metricsUrl: '…/v1/metrics', … }
 */
export function telemetryConfig(
  env: Record<string, string | undefined>,
  tracing: ResolvedTracing,
  who: WorkerIdentity
): TelemetryConfig | undefined {
  if (env.OTEL_SDK_DISABLED?.trim().toLowerCase() === 'true') return undefined
  const deno = who.runtime === 'deno' && env.OTEL_DENO?.trim().toLowerCase() === 'true'
  const tracesUrl = signalUrl(env, 'traces')
  const metricsUrl = signalUrl(env, 'metrics')
  if (tracesUrl === undefined && metricsUrl === undefined && !deno) return undefined
  const sampler = samplerOf(env, tracing)
  const positive = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback)
    return Number.isFinite(value) && value > 0 ? value : fallback
  }
  const maxQueueSize = positive('OTEL_BSP_MAX_QUEUE_SIZE', 2048)
  const protocol = env.OTEL_EXPORTER_OTLP_PROTOCOL?.trim()
  return {
    resource: {
      ...resourceAttributes(env.OTEL_RESOURCE_ATTRIBUTES),
      ...tracing.attributes,
      // In a graph every service shares the environment, so its OTEL_SERVICE_NAME can only name
      // the entry's service; each worker is its own service's.
      'service.name': who.service,
      // Unique across pods (the hostname is the pod's name) and stable across a worker's restarts.
      'service.instance.id': `${who.hostname}/${who.workerIndex}`,
      'bento.worker.index': String(who.workerIndex),
      'process.runtime.name': who.runtime,
    },
    tracesUrl,
    metricsUrl,
    metricsIntervalMs: positive('OTEL_METRIC_EXPORT_INTERVAL', 60_000),
    sampler,
    batch: {
      scheduledDelayMillis: positive('OTEL_BSP_SCHEDULE_DELAY', 5000),
      exportTimeoutMillis: positive('OTEL_BSP_EXPORT_TIMEOUT', 30_000),
      maxQueueSize,
      maxExportBatchSize: Math.min(maxQueueSize, positive('OTEL_BSP_MAX_EXPORT_BATCH_SIZE', 512)),
    },
    deno,
    protocolNote:
      protocol !== undefined && protocol !== '' && protocol !== 'http/json' && !deno
        ? `OTEL_EXPORTER_OTLP_PROTOCOL is "${protocol}"; bento exports OTLP over HTTP as JSON (http/json), which every OpenTelemetry Collector accepts on the same port`
        : undefined,
  }
}
