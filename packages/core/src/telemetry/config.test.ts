import { describe, expect, it } from 'vitest'
import { BentoConfigError } from '../errors.ts'
import { normalizeTracing } from '../service/tracing.ts'
import { telemetryConfig, type WorkerIdentity } from './config.ts'

const fail = (field: string, problem: string, fix: string): never => {
  throw new BentoConfigError({ field, problem, fix })
}
const tracing = normalizeTracing(undefined, fail)
const who: WorkerIdentity = {
  service: 'search',
  workerIndex: 2,
  hostname: 'pod-a',
  runtime: 'node',
}
const endpoint = { OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318/' }

function refusal(run: () => unknown): BentoConfigError {
  try {
    run()
  } catch (error) {
    expect(error).toBeInstanceOf(BentoConfigError)
    return error as BentoConfigError
  }
  throw new Error('expected a BentoConfigError')
}

describe('telemetryConfig', () => {
  it('is undefined when no endpoint is set, or the SDK is disabled', () => {
    expect(telemetryConfig({}, tracing, who)).toBeUndefined()
    expect(
      telemetryConfig({ ...endpoint, OTEL_SDK_DISABLED: 'true' }, tracing, who)
    ).toBeUndefined()
    const none = { ...endpoint, OTEL_TRACES_EXPORTER: 'none', OTEL_METRICS_EXPORTER: 'none' }
    expect(telemetryConfig(none, tracing, who)).toBeUndefined()
    // OTEL_DENO only means something on Deno.
    expect(telemetryConfig({ OTEL_DENO: 'true' }, tracing, who)).toBeUndefined()
    expect(telemetryConfig({ OTEL_DENO: 'true' }, tracing, { ...who, runtime: 'deno' })?.deno).toBe(
      true
    )
  })

  it('derives each signal URL from the base endpoint, a signal endpoint winning as given', () => {
    const config = telemetryConfig(
      { ...endpoint, OTEL_EXPORTER_OTLP_METRICS_ENDPOINT: 'http://m:9/custom' },
      tracing,
      who
    )!
    expect(config.tracesUrl).toBe('http://collector:4318/v1/traces')
    expect(config.metricsUrl).toBe('http://m:9/custom')
    const tracesOnly = telemetryConfig({ ...endpoint, OTEL_METRICS_EXPORTER: 'none' }, tracing, who)
    expect(tracesOnly?.metricsUrl).toBeUndefined()
  })

  it('names the service and the worker, over OTEL_RESOURCE_ATTRIBUTES and the section', () => {
    const own = normalizeTracing({ attributes: { 'model.version': '3' } }, fail)
    const config = telemetryConfig(
      { ...endpoint, OTEL_RESOURCE_ATTRIBUTES: 'team=ml,service.name=ignored,note=a%20b' },
      own,
      who
    )!
    expect(config.resource).toMatchObject({
      'service.name': 'search',
      'service.instance.id': 'pod-a/2',
      'bento.worker.index': '2',
      team: 'ml',
      note: 'a b',
      'model.version': '3',
    })
  })

  it('samples by the section unless OTEL_TRACES_SAMPLER says otherwise', () => {
    const tenth = normalizeTracing({ sampleRate: 0.1 }, fail)
    expect(telemetryConfig(endpoint, tenth, who)?.sampler).toEqual({
      ratio: 0.1,
      parentBased: true,
    })
    const sampled = (env: Record<string, string>) =>
      telemetryConfig({ ...endpoint, ...env }, tenth, who)?.sampler
    expect(sampled({ OTEL_TRACES_SAMPLER: 'always_off' })).toEqual({ ratio: 0, parentBased: false })
    expect(sampled({ OTEL_TRACES_SAMPLER: 'parentbased_always_on' })).toEqual({
      ratio: 1,
      parentBased: true,
    })
    expect(
      sampled({ OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '0.25' })
    ).toEqual({ ratio: 0.25, parentBased: false })
  })

  it('reads the span batcher settings the SDK no longer reads itself', () => {
    const config = telemetryConfig(
      { ...endpoint, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_BSP_MAX_QUEUE_SIZE: '10' },
      tracing,
      who
    )!
    expect(config.batch).toEqual({
      scheduledDelayMillis: 100,
      exportTimeoutMillis: 30_000,
      maxQueueSize: 10,
      maxExportBatchSize: 10,
    })
  })

  it('refuses what it cannot do, naming the variable and the fix', () => {
    const sampler = refusal(() =>
      telemetryConfig({ ...endpoint, OTEL_TRACES_SAMPLER: 'sometimes' }, tracing, who)
    )
    expect(sampler.message).toContain('OTEL_TRACES_SAMPLER')
    expect(sampler.message).toContain('parentbased_traceidratio')
    const ratio = refusal(() =>
      telemetryConfig(
        { ...endpoint, OTEL_TRACES_SAMPLER: 'traceidratio', OTEL_TRACES_SAMPLER_ARG: '2' },
        tracing,
        who
      )
    )
    expect(ratio.message).toContain('OTEL_TRACES_SAMPLER_ARG')
    const exporter = refusal(() =>
      telemetryConfig({ ...endpoint, OTEL_TRACES_EXPORTER: 'zipkin' }, tracing, who)
    )
    expect(exporter.message).toMatch(/OTEL_TRACES_EXPORTER.*OTLP only/s)
    const url = refusal(() =>
      telemetryConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' }, tracing, who)
    )
    expect(url.message).toContain('not an http(s) URL')
  })

  it('notes once that it sends JSON when another protocol is asked for', () => {
    const config = telemetryConfig(
      { ...endpoint, OTEL_EXPORTER_OTLP_PROTOCOL: 'http/protobuf' },
      tracing,
      who
    )!
    expect(config.protocolNote).toContain('http/json')
    expect(telemetryConfig(endpoint, tracing, who)?.protocolNote).toBeUndefined()
  })
})

describe('normalizeTracing', () => {
  it('checks the sample rate and the attributes', () => {
    expect(normalizeTracing({ sampleRate: 0 }, fail).sampleRate).toBe(0)
    expect(refusal(() => normalizeTracing({ sampleRate: 1.5 }, fail)).message).toContain(
      'tracing.sampleRate'
    )
    expect(refusal(() => normalizeTracing({ attributes: { a: 1 } }, fail)).message).toContain(
      'tracing.attributes.a'
    )
    expect(refusal(() => normalizeTracing({ sampleRat: 1 }, fail)).message).toContain(
      'did you mean tracing.sampleRate'
    )
  })
})
