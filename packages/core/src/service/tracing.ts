// The `tracing` section of a service: what the OTEL_* variables can't say. The variables are shared
// by every service of a graph (one `bento serve`, one environment), so a per-service sample rate or
// attribute can only live on the service. The variables still win where they speak: they are what
// an operator sets at deploy time, the section is what the service's author chose.
import { describe } from '../errors.ts'
import { DEFAULTS } from './defaults.ts'
import { type Fail, settingsObject } from './fields.ts'

/** How a service is traced when an OTLP endpoint is configured (`OTEL_EXPORTER_OTLP_ENDPOINT`). */
export interface Tracing {
  /**
   * Fraction of the traces this service starts that are recorded, 0 to 1 (a request that arrives
   * with a `traceparent` follows its caller's choice). Default 1. `OTEL_TRACES_SAMPLER` overrides it.
   */
  sampleRate?: number
  /** Attributes of this service's resource, beside `service.name` (`team`, `model.version`). */
  attributes?: Record<string, string>
}

/** `tracing` with its defaults applied. */
export interface ResolvedTracing {
  sampleRate: number
  attributes: Record<string, string>
}

/** The keys of `tracing`. */
export const TRACING_KEYS = ['sampleRate', 'attributes'] as const

/**
 * The `tracing` section, checked, with the defaults applied.
 * @example
 * normalizeTracing({ sampleRate: 0.1 }, fail) // { sampleRate: 0.1, attributes: {} }
 */
export function normalizeTracing(value: unknown, fail: Fail): ResolvedTracing {
  const tracing = settingsObject(
    value,
    'tracing',
    TRACING_KEYS,
    fail,
    'tracing: { sampleRate: 0.1 }'
  )
  const { sampleRate = DEFAULTS.tracing.sampleRate } = tracing
  if (typeof sampleRate !== 'number' || !(sampleRate >= 0 && sampleRate <= 1)) {
    fail(
      'tracing.sampleRate',
      `must be a number from 0 to 1, got ${describe(sampleRate)}`,
      'write e.g. sampleRate: 0.1 to record one trace in ten'
    )
  }
  const { attributes = {} } = tracing
  if (typeof attributes !== 'object' || attributes === null || Array.isArray(attributes)) {
    fail(
      'tracing.attributes',
      `must be an object of strings, got ${describe(attributes)}`,
      'write attributes: { "model.version": "3" }'
    )
  }
  for (const [key, entry] of Object.entries(attributes)) {
    if (typeof entry !== 'string') {
      fail(
        `tracing.attributes.${key}`,
        `must be a string, got ${describe(entry)}`,
        `write "${key}": "${String(entry)}"`
      )
    }
  }
  return { sampleRate, attributes: { ...(attributes as Record<string, string>) } }
}
