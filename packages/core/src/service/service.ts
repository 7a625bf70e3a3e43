// `service()`: a definition, checked before any process starts, with every default applied.

import { BentoConfigError, describe } from '../errors.ts'
import { normalizeApis } from './apis.ts'
import { noteDefinition } from './defined-in.ts'
import { resolveDepends } from './depends.ts'
import { type Fail, knownKeys } from './fields.ts'
import { normalizeSettings } from './settings.ts'
import {
  type ApiDefinition,
  type DependsMap,
  SERVICE,
  type Service,
  type ServiceConfig,
} from './types.ts'

/** The keys a service definition may have. */
export const SERVICE_KEYS = [
  'name',
  'workers',
  'resources',
  'workersPerResource',
  'multiThreaded',
  'workerMemory',
  'maxMemory',
  'traffic',
  'http',
  'auth',
  'expose',
  'deno',
  'envs',
  'depends',
  'restart',
  'drainTimeout',
  'deploy',
  'tracing',
  'onDeployment',
  'onStartup',
  'onShutdown',
  'isReady',
  'isAlive',
  'apis',
] as const

const HOOKS = ['onDeployment', 'onStartup', 'onShutdown', 'isReady', 'isAlive'] as const

/**
 * Declares a service: its workers, resources, the services it calls, hooks and APIs. Invalid
 * settings, and settings it does not know (`worker: 2`), throw a `BentoConfigError` naming the
 * field and the fix, before any process starts.
 * @example
 * export default service({
 *   name: 'hello',
 *   workers: 'cpu_count',
 *   apis: {
 *     greet: api({
 *       input: z.object({ name: z.string() }),
 *       handler: ({ name }) => ({ message: `Hello, ${name}!` }),
 *     }),
 *   },
 * })
 */
export function service<
  State = unknown,
  Deps extends DependsMap = DependsMap,
  // biome-ignore lint/suspicious/noExplicitAny: each API has its own schemas, kept by `api()`
  Apis extends Record<string, ApiDefinition<any, any, any>> = Record<
    string,
    // biome-ignore lint/suspicious/noExplicitAny: as above
    ApiDefinition<any, any, State>
  >,
>(config: ServiceConfig<State, Deps, Apis>): Service<State, Apis, Deps> {
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new BentoConfigError({
      field: 'service(config)',
      problem: `must be an object, got ${describe(config)}`,
      fix: 'call service({ name, apis: { ... } })',
    })
  }
  const name = checkName(config.name)
  const fail: Fail = (field, problem, fix) => {
    throw new BentoConfigError({ service: name, field, problem, fix })
  }
  const fields = config as unknown as Record<string, unknown>
  knownKeys(fields, SERVICE_KEYS, '', fail)
  const settings = normalizeSettings(fields, fail)
  const apis = normalizeApis(config.apis, fail)
  const dependencies = resolveDepends(fields.depends, config.apis, fail)
  for (const hook of HOOKS) {
    if (fields[hook] !== undefined && typeof fields[hook] !== 'function') {
      fail(
        hook,
        `must be a function, got ${describe(fields[hook])}`,
        `write ${hook}: async () => { ... }`
      )
    }
  }
  const made = Object.freeze({
    [SERVICE]: true as const,
    name,
    settings,
    apis,
    depends: Object.freeze(dependencies),
    definition: config,
  })
  noteDefinition(made)
  return made
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
    throw new BentoConfigError({
      field: 'name',
      problem: `must be lower-case letters, digits, "-", "_" or ".", got ${describe(name)}`,
      fix: 'name the service like name: "text-classifier"',
    })
  }
  return name
}
