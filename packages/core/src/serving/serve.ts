// `serve()`: the one way from what the user exported to running workers. The entry is described
// by a deployment process (the supervisor never imports it), planned with the worker-count
// strategy, and supervised with every hook honoured: onDeployment once, before any worker (after
// the port is claimed, so a busy port fails before a long model download), onStartup and
// onShutdown in every worker for every service it serves, and the services' drain, restart and
// maxMemory settings. The CLI turns flags into these options; nothing here speaks of flags.
import { isAbsolute, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { probe } from '@bento/native'
import { environment } from '../env.ts'
import type { PlanOptions } from '../plan/plan.ts'
import type { PortSharing } from '../runtime/types.ts'
import { createLogger, type LogFormat, type Logger } from '../supervisor/logger.ts'
import { runSupervisor, type Supervisor, supervise } from '../supervisor/supervisor.ts'
import { VARS } from '../vars.ts'
import { startDeployment } from './deployment.ts'
import type { EntryDescription } from './describe.ts'
import { type PoolPlan, planPool } from './pool.ts'

/** What to serve, and how. */
export interface ServeOptions {
  /** The module the user wrote: it exports a service, or an app (a Hono app) mounting services. */
  entry: string | URL
  /** How messages name the entry (the file the user gave, when `entry` is compiled from it). */
  source?: string
  /** The module every worker and the deployment process run: it calls `runEntry()`. */
  workerModule: string | URL
  /** Default 3000; 0 picks a free port. */
  port?: number
  /** Default `0.0.0.0`. */
  host?: string
  /** A worker count over the strategy, with where it came from (`--workers`). */
  workers?: PlanOptions['workers']
  /** Seconds a draining worker gets, over the services' own `drainTimeout`. */
  drainTimeout?: number
  /** Variables for every process, on top of this one's environment. */
  env?: Record<string, string>
  /** Runtime flags for the processes that load the entry. Default: as the supervisor's. */
  execArgv?: readonly string[]
  /** `pretty` (default), `json`, or a logger of your own. */
  logger?: LogFormat | Logger
  portSharing?: PortSharing
  cwd?: string
  /**
   * Handle SIGTERM/SIGINT (drain), SIGHUP (reload) and exit the process with the supervisor's code,
   * as a server process should. Default true; false for a library that runs several.
   */
  signals?: boolean
}

/** A service being served. */
export interface Serving {
  readonly supervisor: Supervisor
  /** What the entry serves, as the deployment process described it. */
  readonly description: EntryDescription
  readonly plan: PoolPlan
  /** Where it answers, e.g. `http://localhost:3000`. */
  readonly url: string
  readonly logger: Logger
}

/**
 * Describes, plans and supervises `options.entry`; resolves once every worker is ready, and
 * rejects with the reason when the entry can't be loaded, the plan is impossible (more GPUs than
 * exist), the port is busy, or onDeployment throws; nothing keeps running then.
 * @example
 * const serving = await serve({ entry: 'service.ts', workerModule: 'bento/worker', port: 3000 })
 * console.log(serving.url)
 */
export async function serve(options: ServeOptions): Promise<Serving> {
  const cwd = options.cwd ?? process.cwd()
  const entry = pathOf(options.entry, cwd)
  const workerModule = specifierOf(options.workerModule, cwd)
  const source = options.source ?? entry
  const logger =
    typeof options.logger === 'object'
      ? options.logger
      : createLogger({ format: options.logger ?? 'pretty' })
  const execArgv =
    options.execArgv ?? process.execArgv.filter((arg) => !arg.startsWith('--inspect'))
  const env = { ...options.env, [VARS.entry]: entry, [VARS.source]: source }

  const deployment = await startDeployment({
    workerModule,
    entry,
    source,
    execArgv,
    env: options.env ?? {},
    cwd,
    logger,
  })
  let plan: PoolPlan
  try {
    plan = planPool(deployment.description, {
      probe: probe(),
      env: { ...environment(), ...options.env },
      ...(options.workers && { workers: options.workers }),
    })
  } catch (error) {
    deployment.done()
    throw error
  }
  for (const warning of plan.warnings) logger.log('warn', warning)
  for (const reason of plan.reasons) logger.log('info', reason)
  const deploys = deployment.description.services.some((s) => s.onDeployment)
  if (!deploys) deployment.done()

  const start = options.signals === false ? supervise : runSupervisor
  const supervisor = start({
    workerEntry: workerModule,
    assignments: plan.assignments,
    ...(options.port !== undefined && { port: options.port }),
    ...(options.host !== undefined && { host: options.host }),
    ...(options.portSharing !== undefined && { portSharing: options.portSharing }),
    execArgv,
    cwd,
    env,
    drainTimeout: options.drainTimeout ?? plan.settings.drainTimeout,
    restart: plan.settings.restart,
    ...(plan.settings.maxMemory !== undefined && { maxMemory: plan.settings.maxMemory }),
    ...(deploys && { onDeployment: () => deployment.deploy() }),
    logger,
  })
  try {
    await supervisor.ready
  } catch {
    const { error } = await supervisor.exited
    if (deploys) deployment.done()
    throw error ?? new Error('the supervisor stopped before every worker was ready')
  }
  const host = options.host ?? '0.0.0.0'
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${supervisor.port}`
  return { supervisor, description: deployment.description, plan, url, logger }
}

function pathOf(entry: string | URL, cwd: string): string {
  if (entry instanceof URL || entry.startsWith('file:')) return fileURLToPath(entry)
  return isAbsolute(entry) ? entry : resolve(cwd, entry)
}

// The worker module: a path, a file: URL, or (under Deno) an npm: specifier, kept as it is.
function specifierOf(module: string | URL, cwd: string): string {
  if (typeof module === 'string' && /^(npm|jsr):/.test(module)) return module
  return pathOf(module, cwd)
}
