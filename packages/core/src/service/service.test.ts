import * as v from 'valibot'
import { describe, expect, expectTypeOf, it, vi } from 'vitest'
import { z } from 'zod'
import { BentoConfigError } from '../errors.ts'
import { api } from './apis.ts'
import { DEFAULTS } from './defaults.ts'
import type { StandardSchemaV1 } from './schema.ts'
import { service } from './service.ts'
import type { ApiContext, ServiceConfig, ServiceSettings } from './types.ts'
import { isService } from './types.ts'

const handler = () => 'ok'

// biome-ignore lint/suspicious/noExplicitAny: the tests feed service() what TypeScript would refuse
function svc(config: Record<string, any>) {
  return service({ name: 'svc', apis: { predict: { handler } }, ...config } as ServiceConfig)
}

function configError(fn: () => unknown): BentoConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(BentoConfigError)
    return error as BentoConfigError
  }
  throw new Error('expected a BentoConfigError')
}

describe('service(): defaults', () => {
  it('applies DEFAULTS to a minimal service', () => {
    const s = service({ name: 'hello', apis: { greet: { handler } } })
    expect(s.name).toBe('hello')
    expect(s.settings).toEqual<ServiceSettings>({
      workers: undefined,
      resources: { cpu: undefined, memory: undefined, gpu: undefined },
      workersPerResource: DEFAULTS.workersPerResource,
      multiThreaded: DEFAULTS.multiThreaded,
      workerMemory: undefined,
      maxMemory: undefined,
      traffic: {
        timeout: DEFAULTS.traffic.timeout,
        maxConcurrency: undefined,
        maxQueue: undefined,
      },
      http: { bodyLimit: 10 * 2 ** 20, maxFormFields: 1000, cors: undefined },
      auth: undefined,
      expose: { metrics: true, docs: true },
      deno: { allow: [] },
      envs: {},
      restart: { ...DEFAULTS.restart },
      drainTimeout: DEFAULTS.drainTimeout,
      deploy: {
        replicas: 1,
        image: undefined,
        autoscaling: { maxReplicas: 4, targetInFlight: 8, targetCpuPercent: 70 },
        startupTimeout: 300,
        secretEnvs: [],
      },
      tracing: { sampleRate: 1, attributes: {} },
    })
    expect(DEFAULTS).toMatchObject({ workersPerResource: 1, traffic: { timeout: 60 } })
  })

  it('resolves routes, methods and streams of each API, in declaration order', () => {
    const s = svc({
      apis: {
        b: { handler, route: '/v1/b', method: 'GET', stream: 'text' },
        a: { handler },
      },
    })
    expect(
      s.apis.map(({ name, route, method, stream }) => ({ name, route, method, stream }))
    ).toEqual([
      { name: 'b', route: '/v1/b', method: 'GET', stream: 'text' },
      { name: 'a', route: '/a', method: 'POST', stream: 'sse' },
    ])
  })

  it('gives batch APIs the batch defaults', () => {
    const s = svc({ apis: { embed: { batchable: true, handler: (xs: unknown[]) => xs } } })
    expect(s.apis[0]).toMatchObject({ maxBatchSize: 32, maxLatencyMs: 100 })
  })

  it('parses sizes and fills maxQueue from maxConcurrency', () => {
    const s = svc({
      resources: { memory: '2Gi', cpu: 0.5, gpu: 0.25 },
      workerMemory: '512Mi',
      maxMemory: '1.5Gi',
      traffic: { maxConcurrency: 4 },
      http: { bodyLimit: '50Mi', maxFormFields: 20 },
      restart: { maxRestarts: 0, backoff: { max: 5 } },
    })
    expect(s.settings.http).toEqual({ bodyLimit: 50 * 2 ** 20, maxFormFields: 20 })
    expect(s.settings.resources).toEqual({ cpu: 0.5, memory: 2 ** 31, gpu: 0.25 })
    expect(s.settings.workerMemory).toBe(2 ** 29)
    expect(s.settings.maxMemory).toBe(1.5 * 2 ** 30)
    expect(s.settings.traffic).toEqual({ timeout: 60, maxConcurrency: 4, maxQueue: 4 })
    expect(s.settings.restart).toEqual({
      ...DEFAULTS.restart,
      maxRestarts: 0,
      backoff: { ...DEFAULTS.restart.backoff, max: 5 },
    })
  })

  it('returns a frozen service', () => {
    expect(Object.isFrozen(svc({}))).toBe(true)
  })
})

describe('service(): every bad value names the field and the fix', () => {
  it.each([
    ['name', { name: 'Hello' }, 'text-classifier'],
    ['name', { name: '' }, 'text-classifier'],
    ['name', { name: 42 }, 'text-classifier'],
    ['workers', { workers: 0 }, 'at least 1'],
    ['workers', { workers: -1 }, 'at least 1'],
    ['workers', { workers: 1.5 }, 'at least 1'],
    ['workers', { workers: '4' }, 'at least 1'],
    ['workers', { workers: 'cpu-count' }, '"cpu_count"'],
    ['workers', { workers: 'CPU count' }, '"cpu_count"'],
    ['resources', { resources: 'big' }, 'resources: { cpu: 2 }'],
    ['resources.cpu', { resources: { cpu: 0 } }, 'cpu: 2'],
    ['resources.cpu', { resources: { cpu: -1 } }, 'cpu: 2'],
    ['resources.cpu', { resources: { cpu: '2' } }, 'cpu: 2'],
    ['resources.cpu', { resources: { cpu: Number.NaN } }, 'cpu: 2'],
    ['resources.gpu', { resources: { gpu: 1.5 } }, 'gpu: 0.5'],
    ['resources.gpu', { resources: { gpu: 0 } }, 'gpu: 0.5'],
    ['resources.gpu', { resources: { gpu: -2 } }, 'gpu: 0.5'],
    ['resources.gpu', { resources: { gpu: Number.POSITIVE_INFINITY } }, 'gpu: 0.5'],
    ['resources.memory', { resources: { memory: 'lots' } }, 'memory: "1.5Gi"'],
    ['resources.memory', { resources: { memory: -5 } }, 'memory: "1.5Gi"'],
    ['workerMemory', { workerMemory: '1 gig' }, 'workerMemory: "1.5Gi"'],
    ['worker', { worker: 2 }, 'did you mean workers?'],
    ['restart.maxRetries', { restart: { maxRetries: 3 } }, 'did you mean restart.maxRestarts?'],
    ['traffic.timout', { traffic: { timout: 3 } }, 'did you mean traffic.timeout?'],
    ['resources.gpus', { resources: { gpus: 1 } }, 'did you mean resources.gpu?'],
    [
      'restart.backoff.initialMs',
      { restart: { backoff: { initialMs: 100 } } },
      'did you mean restart.backoff.initial?',
    ],
    [
      'apis.predict.inputs',
      { apis: { predict: { handler, inputs: {} } } },
      'did you mean apis.predict.input?',
    ],
    ['colour', { colour: 'blue' }, 'remove it; the settings are name, workers,'],
    ['maxMemory', { maxMemory: 'lots' }, 'maxMemory: "1.5Gi"'],
    ['workersPerResource', { workersPerResource: 0 }, 'use 1'],
    ['workersPerResource', { workersPerResource: -2 }, 'use 1'],
    ['traffic.timeout', { traffic: { timeout: 0 } }, 'timeout: 60'],
    ['traffic.timeout', { traffic: { timeout: 30_000 } }, 'write 30 for 30000 ms'],
    ['traffic.maxConcurrency', { traffic: { maxConcurrency: 0 } }, 'maxConcurrency: 8'],
    ['traffic.maxConcurrency', { traffic: { maxConcurrency: 2.5 } }, 'maxConcurrency: 8'],
    ['traffic.maxQueue', { traffic: { maxConcurrency: 2, maxQueue: -1 } }, 'maxQueue: 16'],
    ['traffic.maxQueue', { traffic: { maxQueue: 4 } }, 'set maxConcurrency too'],
    ['http.bodyLimit', { http: { bodyLimit: 'huge' } }, 'bodyLimit: "1.5Gi"'],
    ['http.maxFormFields', { http: { maxFormFields: 0 } }, 'maxFormFields'],
    ['http.maxFields', { http: { maxFields: 10 } }, 'did you mean http.maxFormFields?'],
    ['http', { http: 5 }, "http: { bodyLimit: '50Mi' }"],
    ['http.cors.origin', { http: { cors: { origin: 'app.example.com' } } }, "origin: 'https://"],
    ['http.cors.origin', { http: { cors: { origin: 'https://a.example/x' } } }, "'https://app"],
    [
      'http.cors.origin',
      { http: { cors: { origin: '*', credentials: true } } },
      'list the origins',
    ],
    ['http.cors.headers', { http: { cors: { origin: '*', headers: ['a b'] } } }, "'content-type'"],
    ['auth.bearer', { auth: {} }, "bearer: env('SEARCH_TOKEN')"],
    ['auth.bearer', { auth: { bearer: 'has space' } }, "bearer: env('"],
    ['auth.bearer.1', { auth: { bearer: ['ok', 42] } }, "bearer: env('"],
    ['expose.docs', { expose: { docs: 'no' } }, 'docs: false'],
    ['deno.allow', { deno: { allow: ['-A'] } }, "allow: ['--allow-ffi'"],
    ['deploy.secretEnvs', { deploy: { secretEnvs: ['HF TOKEN'] } }, "secretEnvs: ['HF_TOKEN']"],
    ['expose.admin', { expose: { admin: true } }, 'metrics, docs'],
    ['apis.predict.forms', { apis: { predict: { handler, forms: 'yes' } } }, 'forms: true'],
    ['envs', { envs: ['A=1'] }, 'HF_HOME'],
    ['envs.1BAD', { envs: { '1BAD': 'x' } }, 'not starting with a digit'],
    ['envs.PORT', { envs: { PORT: 3000 } }, 'PORT: "3000"'],
    ['restart.maxRestarts', { restart: { maxRestarts: -1 } }, 'maxRestarts: 5'],
    ['restart.backoff.initial', { restart: { backoff: { initial: -1 } } }, 'initial: 0.1'],
    ['restart.backoff.max', { restart: { backoff: { max: 10_000 } } }, 'write 10 for 10000 ms'],
    ['restart.backoff.max', { restart: { backoff: { initial: 2, max: 1 } } }, 'at least initial'],
    ['restart.backoff', { restart: { backoff: 5 } }, 'initial: 0.1, max: 10'],
    ['restart.window', { restart: { window: 0 } }, 'window: 60'],
    ['restart.minUptime', { restart: { minUptime: -1 } }, 'minUptime: 1'],
    ['restart', { restart: 'always' }, 'maxRestarts: 5'],
    ['drainTimeout', { drainTimeout: 0 }, 'drainTimeout: 30'],
    ['drainTimeout', { drainTimeout: 90_000 }, 'write 90 for 90000 ms'],
    ['apis', { apis: null }, 'api({ handler })'],
    ['apis', { apis: [] }, 'api({ handler })'],
    ['apis.bad name', { apis: { 'bad name': { handler } } }, 'starting with a letter'],
    ['apis.predict.handler', { apis: { predict: {} } }, 'predict: api({ handler'],
    ['apis.predict.handler', { apis: { predict: { handler: 'fn' } } }, 'predict: api({ handler'],
    ['apis.predict.input', { apis: { predict: { handler, input: {} } } }, 'Standard Schema v1'],
    [
      'apis.predict.output',
      { apis: { predict: { handler, output: { parse() {} } } } },
      'Standard Schema v1',
    ],
    [
      'apis.predict.route',
      { apis: { predict: { handler, route: 'predict' } } },
      'route: "/predict"',
    ],
    ['apis.predict.method', { apis: { predict: { handler, method: 'DELETE' } } }, 'for POST'],
    ['apis.predict.stream', { apis: { predict: { handler, stream: 'ws' } } }, 'server-sent events'],
    [
      'apis.e.maxBatchSize',
      { apis: { e: { handler, batchable: true, maxBatchSize: 0 } } },
      'maxBatchSize: 32',
    ],
    [
      'apis.e.maxLatencyMs',
      { apis: { e: { handler, batchable: true, maxLatencyMs: -1 } } },
      'maxLatencyMs: 100',
    ],
    ['onStartup', { onStartup: 'load' }, 'onStartup: async'],
    ['isReady', { isReady: true }, 'isReady: async'],
  ] as [string, Record<string, unknown>, string][])('%s: %j', (field, config, fix) => {
    const error = configError(() => svc(config))
    expect(error.field).toBe(field)
    const where = field === 'name' ? '' : 'service "svc": '
    expect(error.message.startsWith(`${where}${field} `)).toBe(true)
    expect(error.message).toContain('Fix: ')
    expect(error.fix).toContain(fix)
  })

  it('the millisecond hint says seconds', () => {
    expect(configError(() => svc({ traffic: { timeout: 30_000 } })).message).toBe(
      'service "svc": traffic.timeout is 30000 seconds (over 8 hours). Fix: it is in seconds, as in BentoML: write 30 for 30000 ms.'
    )
  })

  it.each([600, 3600, 4500, 86_400])(
    'accepts a long but plausible timeout of %i seconds',
    (timeout) => {
      expect(svc({ traffic: { timeout } }).settings.traffic.timeout).toBe(timeout)
    }
  )

  it('rejects a config that is not an object', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a JavaScript caller may pass anything
    const error = configError(() => service(null as any))
    expect(error.field).toBe('service(config)')
    expect(error.message).toContain('Fix: call service({ name, apis: { ... } })')
  })

  it('rejects two APIs on the same method and route, naming both', () => {
    const error = configError(() =>
      svc({ apis: { a: { handler, route: '/x' }, b: { handler, route: '/x' } } })
    )
    expect(error.field).toBe('apis.b.route')
    expect(error.message).toContain('repeats POST /x of apis.a')
    expect(error.fix).toBe('give each API its own route')
  })

  it('allows the same route under another method', () => {
    const s = svc({
      apis: { a: { handler, route: '/x' }, b: { handler, route: '/x', method: 'GET' } },
    })
    expect(s.apis).toHaveLength(2)
  })

  it('rejects a default route clashing with an explicit one', () => {
    const error = configError(() => svc({ apis: { a: { handler }, b: { handler, route: '/a' } } }))
    expect(error.field).toBe('apis.b.route')
  })

  it('accepts schemas from zod, valibot and any Standard Schema', () => {
    const custom: StandardSchemaV1<string> = {
      '~standard': { version: 1, vendor: 'test', validate: (value) => ({ value: String(value) }) },
    }
    const s = svc({
      apis: {
        a: { handler, input: z.object({ name: z.string() }) },
        b: { handler, input: v.object({ name: v.string() }) },
        c: { handler, input: custom, output: z.string() },
      },
    })
    expect(s.apis.map((a) => a.name)).toEqual(['a', 'b', 'c'])
  })
})

describe('service(): deploy', () => {
  it('scales from deploy.replicas to 4 × as many by default, or not at all with autoscaling: false', () => {
    expect(svc({ deploy: { replicas: 2 } }).settings.deploy.autoscaling?.maxReplicas).toBe(8)
    const fixed = svc({
      deploy: { replicas: 3, autoscaling: false, image: 'r.io/a:1', secretEnvs: ['HF_TOKEN'] },
    })
    expect(fixed.settings.deploy).toEqual({
      replicas: 3,
      image: 'r.io/a:1',
      autoscaling: undefined,
      startupTimeout: 300,
      secretEnvs: ['HF_TOKEN'],
    })
  })

  it.each([
    [{ replicas: 0 }, 'deploy.replicas', 'positive integer'],
    [{ image: 'has space' }, 'deploy.image', 'without spaces'],
    [{ replicas: 4, autoscaling: { maxReplicas: 2 } }, 'deploy.autoscaling.maxReplicas', 'below'],
    [
      { autoscaling: { targetCpuPercent: 150 } },
      'deploy.autoscaling.targetCpuPercent',
      'above 100',
    ],
    [{ autoscaling: { maxReplica: 3 } }, 'deploy.autoscaling.maxReplica', 'maxReplicas'],
    [{ startupTimeout: 300_000 }, 'deploy.startupTimeout', 'seconds'],
  ])('refuses deploy %j, naming %s', (deploy, field, words) => {
    const error = configError(() => svc({ deploy } as never))
    expect(error.field).toBe(field)
    expect(error.message).toContain(words)
  })
})

describe('isService', () => {
  it('is true for services, false for look-alikes', () => {
    expect(isService(svc({}))).toBe(true)
    for (const value of [null, undefined, {}, { name: 'svc', apis: [] }, 'svc', 1]) {
      expect(isService(value)).toBe(false)
    }
    expect(isService({ [Symbol('bento.service')]: true })).toBe(false)
  })

  it('recognises a service made by another copy of the module (Symbol.for)', async () => {
    vi.resetModules()
    const copy = (await import('./service.ts')) as typeof import('./service.ts')
    const types = (await import('./types.ts')) as typeof import('./types.ts')
    expect(copy.service).not.toBe(service)
    expect(types.isService).not.toBe(isService)
    const other = copy.service({ name: 'other', apis: { p: { handler } } })
    expect(isService(other)).toBe(true)
    expect(types.isService(svc({}))).toBe(true)
  })
})

describe('api()', () => {
  it('returns the definition unchanged', () => {
    const definition = { handler }
    expect(api(definition)).toBe(definition)
  })

  it('infers the handler input and output from zod schemas', () => {
    const input = z.object({ name: z.string(), count: z.number().default(1) })
    const output = z.object({ message: z.string() })
    const greet = api({
      input,
      output,
      handler: (body, ctx) => {
        expectTypeOf(body).toEqualTypeOf<{ name: string; count: number }>()
        expectTypeOf(ctx).toEqualTypeOf<ApiContext<unknown>>()
        return { message: `Hello, ${body.name}` }
      },
    })
    expectTypeOf(greet.handler).parameter(0).toEqualTypeOf<{ name: string; count: number }>()
    expect(typeof greet.handler).toBe('function')

    // @ts-expect-error: the output schema wants { message: string }, not a number
    api({ input, output, handler: () => ({ message: 1 }) })
    api({
      input,
      handler: (body) => {
        // @ts-expect-error: the input schema has no `age`
        return body.age
      },
    })
  })

  it('infers a batch handler as arrays of the schema types', () => {
    const embed = api({
      batchable: true,
      input: z.string(),
      output: z.array(z.number()),
      handler: (texts) => {
        expectTypeOf(texts).toEqualTypeOf<string[]>()
        return texts.map(() => [0])
      },
    })
    expectTypeOf(embed.handler).returns.toEqualTypeOf<number[][]>()
  })

  it('leaves the input unknown without a schema', () => {
    api({
      handler: (body) => {
        expectTypeOf(body).toBeUnknown()
        return null
      },
    })
  })
})
