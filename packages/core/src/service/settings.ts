// A service's settings, checked and completed with the defaults: every field once, with the rules
// of fields.ts, and every unknown key refused with the nearest known one.
import { describe } from '../errors.ts'
import { normalizeAuth, normalizeCors, normalizeExpose } from './access.ts'
import { DEFAULTS } from './defaults.ts'
import { normalizeDeploy } from './deploy.ts'
import {
  bytes,
  environmentVariables,
  type Fail,
  integer,
  isPositive,
  isPositiveInteger,
  seconds,
  settingsObject,
} from './fields.ts'
import { normalizeTracing } from './tracing.ts'
import type { ResolvedRestartPolicy, ServiceSettings } from './types.ts'

/** The keys of `resources`. */
export const RESOURCE_KEYS = ['cpu', 'memory', 'gpu'] as const
/** The keys of `traffic`. */
export const TRAFFIC_KEYS = ['timeout', 'maxConcurrency', 'maxQueue'] as const
/** The keys of `http`. */
export const HTTP_KEYS = ['bodyLimit', 'maxFormFields', 'cors'] as const
/** The keys of `restart`. */
export const RESTART_KEYS = [
  'minUptime',
  'maxRestarts',
  'window',
  'backoff',
  'keepRetrying',
] as const
/** The keys of `restart.backoff`. */
export const BACKOFF_KEYS = ['initial', 'max', 'resetAfter'] as const

/**
 * The settings of a service definition (everything but its name, hooks and APIs), checked, with
 * the defaults applied.
 * @example
 * const settings = normalizeSettings({ workers: 2 }, fail)
 */
export function normalizeSettings(config: Record<string, unknown>, fail: Fail): ServiceSettings {
  const { workers } = config
  if (workers !== undefined && workers !== 'cpu_count' && !isPositiveInteger(workers)) {
    const hint =
      typeof workers === 'string' && /cpu.?count/i.test(workers)
        ? 'write "cpu_count" with an underscore'
        : 'use a whole number of at least 1, or "cpu_count" for one worker per CPU'
    fail('workers', `must be a positive integer or "cpu_count", got ${describe(workers)}`, hint)
  }
  const resources = settingsObject(
    config.resources,
    'resources',
    RESOURCE_KEYS,
    fail,
    'resources: { cpu: 2 }'
  )
  if (resources.cpu !== undefined && !isPositive(resources.cpu)) {
    fail(
      'resources.cpu',
      `must be a positive number of CPUs, got ${describe(resources.cpu)}`,
      'write resources: { cpu: 2 } (fractions such as 0.5 are fine)'
    )
  }
  const gpu = resources.gpu
  if (gpu !== undefined && !(isPositiveInteger(gpu) || (isPositive(gpu) && gpu < 1))) {
    fail(
      'resources.gpu',
      `must be a whole number of GPUs, or a fraction below 1 to share one, got ${describe(gpu)}`,
      'use gpu: 1, gpu: 2, ... or gpu: 0.5 to put two workers on each GPU'
    )
  }
  const workersPerResource = config.workersPerResource ?? DEFAULTS.workersPerResource
  if (!isPositive(workersPerResource)) {
    fail(
      'workersPerResource',
      `must be a positive number, got ${describe(workersPerResource)}`,
      'use 1 (one worker per GPU or CPU), or e.g. 2 to run two per GPU'
    )
  }
  const multiThreaded = config.multiThreaded ?? DEFAULTS.multiThreaded
  if (typeof multiThreaded !== 'boolean') {
    fail(
      'multiThreaded',
      `must be true or false, got ${describe(multiThreaded)}`,
      'write multiThreaded: true when the model uses every core itself'
    )
  }
  return {
    workers: workers as ServiceSettings['workers'],
    resources: {
      cpu: resources.cpu as number | undefined,
      memory: bytes(resources.memory, 'resources.memory', fail),
      gpu: gpu as number | undefined,
    },
    workersPerResource,
    multiThreaded,
    workerMemory: bytes(config.workerMemory, 'workerMemory', fail),
    maxMemory: bytes(config.maxMemory, 'maxMemory', fail),
    traffic: normalizeTraffic(config.traffic, fail),
    http: normalizeHttp(config.http, fail),
    auth: normalizeAuth(config.auth, fail),
    expose: normalizeExpose(config.expose, fail),
    deno: normalizeDeno(config.deno, fail),
    envs: environmentVariables(config.envs, 'envs', fail),
    restart: normalizeRestart(config.restart, fail),
    drainTimeout: seconds(config.drainTimeout, DEFAULTS.drainTimeout, 'drainTimeout', fail),
    deploy: normalizeDeploy(config.deploy, fail),
    tracing: normalizeTracing(config.tracing, fail),
  }
}

function normalizeHttp(value: unknown, fail: Fail): ServiceSettings['http'] {
  const http = settingsObject(value, 'http', HTTP_KEYS, fail, "http: { bodyLimit: '50Mi' }")
  return {
    bodyLimit: bytes(http.bodyLimit, 'http.bodyLimit', fail) ?? DEFAULTS.http.bodyLimit,
    maxFormFields: integer(
      http.maxFormFields,
      DEFAULTS.http.maxFormFields,
      1,
      'http.maxFormFields',
      fail
    ),
    cors: normalizeCors(http.cors, fail),
  }
}

function normalizeDeno(value: unknown, fail: Fail): ServiceSettings['deno'] {
  const deno = settingsObject(value, 'deno', ['allow'], fail, "deno: { allow: ['--allow-ffi'] }")
  const allow = deno.allow ?? []
  if (
    !Array.isArray(allow) ||
    allow.some((flag) => typeof flag !== 'string' || !/^--allow-[a-z-]+(=.+)?$/.test(flag))
  ) {
    fail(
      'deno.allow',
      `must be a list of Deno permission flags (--allow-...), got ${describe(allow)}`,
      "write deno: { allow: ['--allow-ffi', '--allow-write=/models'] }"
    )
  }
  return { allow: [...(allow as string[])] }
}

function normalizeTraffic(value: unknown, fail: Fail): ServiceSettings['traffic'] {
  const traffic = settingsObject(value, 'traffic', TRAFFIC_KEYS, fail, 'traffic: { timeout: 60 }')
  const timeout = seconds(traffic.timeout, DEFAULTS.traffic.timeout, 'traffic.timeout', fail)
  const { maxConcurrency, maxQueue } = traffic
  if (maxConcurrency !== undefined && !isPositiveInteger(maxConcurrency)) {
    fail(
      'traffic.maxConcurrency',
      `must be a positive integer, got ${describe(maxConcurrency)}`,
      'use e.g. maxConcurrency: 8, or leave it out for no limit'
    )
  }
  if (
    maxQueue !== undefined &&
    !(typeof maxQueue === 'number' && Number.isInteger(maxQueue) && maxQueue >= 0)
  ) {
    fail(
      'traffic.maxQueue',
      `must be an integer of at least 0, got ${describe(maxQueue)}`,
      'use e.g. maxQueue: 16 (0 sheds every request beyond maxConcurrency)'
    )
  }
  if (maxQueue !== undefined && maxConcurrency === undefined) {
    fail(
      'traffic.maxQueue',
      'needs traffic.maxConcurrency',
      'set maxConcurrency too, or remove maxQueue'
    )
  }
  return {
    timeout,
    maxConcurrency: maxConcurrency as number | undefined,
    maxQueue: (maxQueue ?? maxConcurrency) as number | undefined,
  }
}

/**
 * A restart policy with the defaults applied, every field checked; `fail` reports a bad one (the
 * service and the supervisor word their errors differently).
 * @example
 * const policy = normalizeRestart({ maxRestarts: 10 }, fail)
 */
export function normalizeRestart(value: unknown, fail: Fail): ResolvedRestartPolicy {
  const d = DEFAULTS.restart
  const restart = settingsObject(
    value,
    'restart',
    RESTART_KEYS,
    fail,
    'restart: { maxRestarts: 5 }'
  )
  const backoff = settingsObject(
    restart.backoff,
    'restart.backoff',
    BACKOFF_KEYS,
    fail,
    'backoff: { initial: 0.1, max: 10 }'
  )
  const keepRetrying = restart.keepRetrying ?? d.keepRetrying
  if (typeof keepRetrying !== 'boolean') {
    fail(
      'restart.keepRetrying',
      `must be true or false, got ${describe(keepRetrying)}`,
      'leave it out to stop on a crash loop'
    )
  }
  const resolved: ResolvedRestartPolicy = {
    minUptime: seconds(restart.minUptime, d.minUptime, 'restart.minUptime', fail),
    maxRestarts: integer(restart.maxRestarts, d.maxRestarts, 0, 'restart.maxRestarts', fail),
    window: seconds(restart.window, d.window, 'restart.window', fail),
    backoff: {
      initial: seconds(backoff.initial, d.backoff.initial, 'restart.backoff.initial', fail),
      max: seconds(backoff.max, d.backoff.max, 'restart.backoff.max', fail),
      resetAfter: seconds(
        backoff.resetAfter,
        d.backoff.resetAfter,
        'restart.backoff.resetAfter',
        fail
      ),
    },
    keepRetrying,
  }
  if (resolved.backoff.max < resolved.backoff.initial) {
    fail(
      'restart.backoff.max',
      `is ${resolved.backoff.max} s, below backoff.initial (${resolved.backoff.initial} s)`,
      'make max at least initial'
    )
  }
  return resolved
}
