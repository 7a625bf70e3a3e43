// `serve()`: the one way from what the user exported to running workers. The entry is described
// by a deployment process (the supervisor never imports it), laid out as a graph (the entry's
// services, and every dependency bento serves here, each with its own workers), planned with the
// worker-count strategy and one GPU ledger, and supervised with every hook honoured: onDeployment
// once, before any worker (after the port is claimed, so a busy port fails before a long model
// download), onStartup and onShutdown in every worker for every service it serves, and the
// services' drain, restart and maxMemory settings. The CLI turns flags into these options;
// nothing here speaks of flags.
import { randomBytes } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { probe } from '@bento/native'
import { parseDependsVar } from '../client/registry.ts'
import { environment } from '../env.ts'
import type { PlanOptions } from '../plan/plan.ts'
import { runtimeName } from '../runtime/detect.ts'
import type { PortSharing } from '../runtime/types.ts'
import { bearerTokens } from '../service/secret.ts'
import { normalizeTracing } from '../service/tracing.ts'
import { createLogger, type LogFormat, type Logger } from '../supervisor/logger.ts'
import type { SuperviseOptions } from '../supervisor/options.ts'
import { handleSignals, type Supervisor, supervise } from '../supervisor/supervisor.ts'
import { telemetryConfig } from '../telemetry/config.ts'
import { VARS } from '../vars.ts'
import { startDeployment } from './deployment.ts'
import type { EntryDescription } from './describe.ts'
import { type GraphLayout, layoutGraph, poolEnv } from './layout.ts'
import { type PoolPlan, planGraph } from './pool.ts'
import { startGraph } from './start-graph.ts'

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
  /**
   * A line per request from every worker (method, route, status, duration, bytes, request and
   * trace id), in the logger's format. Default false.
   */
  accessLog?: boolean
  portSharing?: PortSharing
  cwd?: string
  /**
   * A second port for `/livez`, `/healthz`, `/readyz` and `/metrics` (then served only there),
   * for probes and scrapers the public port need not answer.
   */
  adminPort?: number
  /**
   * Serve this service of the entry's graph alone, on the public port (one Deployment per
   * service); its dependencies must all have addresses.
   */
  service?: string
  /**
   * Where dependencies served elsewhere answer, by service name (over `$BENTO_DEPENDS`, which is
   * read too, and over the code's own `url`s): those are not started here.
   */
  depends?: Record<string, string>
  /**
   * How dependencies served here take calls: `unix` (default), private Unix sockets in a
   * directory only this user can enter, removed on exit; `tcp`, ports of 127.0.0.1 (the
   * default where Unix sockets are unavailable).
   */
  transport?: 'unix' | 'tcp'
  /**
   * Handle SIGTERM/SIGINT (drain), SIGHUP (reload) and exit the process with the supervisor's code,
   * as a server process should. Default true; false for a library that runs several.
   */
  signals?: boolean
  /**
   * Keep a warm standby process per worker, loaded up to the entry (and `preload`, a module that
   * imports the packages the entry imports), so a reload or restart only imports the user's code
   * (`bento dev`: a reload on Node in ~0.15 s instead of ~0.4). Costs a process per worker.
   */
  standby?: { preload?: string }
}

/** One service's pool, as served. */
export interface ServedPool {
  readonly name: string
  readonly plan: PoolPlan
  readonly supervisor: Supervisor
  /** True for a dependency served on private sockets; false for the entry's pool. */
  readonly internal: boolean
}

/** A service being served. */
export interface Serving {
  /** Every pool as one: it stops, reloads and ends them all; its workers are the entry's. */
  readonly supervisor: Supervisor
  /** What the entry serves, as the deployment process described it. */
  readonly description: EntryDescription
  /** What runs here and what is called elsewhere. */
  readonly layout: GraphLayout
  /** The entry pool's plan. */
  readonly plan: PoolPlan
  /** Every pool: the dependencies served here, dependencies first, then the entry's. */
  readonly pools: readonly ServedPool[]
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
  const given = options.execArgv ?? process.execArgv.filter((arg) => !arg.startsWith('--inspect'))
  const userEnv = { ...environment(), ...options.env }

  const deployment = await startDeployment({
    workerModule,
    entry,
    source,
    execArgv: given,
    env: options.env ?? {},
    cwd,
    logger,
  })
  const { description } = deployment
  // On Deno, workers also get the permissions the services ask for (`deno.allow`): those of the
  // whole graph, as every worker imports the one entry, and what it imports for any service
  // (a native addon, say) it imports for all.
  const execArgv =
    runtimeName() === 'deno'
      ? [
          ...new Set([
            ...given,
            ...[...description.services, ...description.graph].flatMap(
              (s) => s.settings.deno.allow
            ),
          ]),
        ]
      : given
  let layout: GraphLayout
  let plans: ReturnType<typeof planGraph>
  try {
    // The OTEL_* variables are read by every worker; a wrong one stops the start here, once.
    telemetryConfig(userEnv, DEFAULT_TRACING, {
      service: 'check',
      workerIndex: 1,
      hostname: 'check',
      runtime: runtimeName(),
    })
    const addresses = parseDependsVar(userEnv[VARS.depends])
    for (const [name, url] of Object.entries(options.depends ?? {})) {
      for (const [key, value] of parseDependsVar(`${name}=${url}`, 'depends')) {
        addresses.set(key, value)
      }
    }
    layout = layoutGraph(description, { service: options.service, addresses })
    // A token the public port requires, from a variable that is unset, fails here, once.
    for (const service of layout.entry.services) bearerTokens(service, userEnv)
    plans = planGraph(layout, {
      probe: probe(),
      env: userEnv,
      ...(options.workers && { workers: options.workers }),
    })
  } catch (error) {
    deployment.done()
    throw error
  }
  for (const [name, plan] of plans.local) {
    for (const warning of plan.warnings) logger.log('warn', warning, undefined, name)
    for (const reason of plan.reasons) logger.log('info', reason, undefined, name)
  }
  for (const warning of plans.entry.warnings) logger.log('warn', warning)
  for (const reason of plans.entry.reasons) logger.log('info', reason)

  const base: Omit<SuperviseOptions, 'assignments'> = {
    workerEntry: workerModule,
    execArgv,
    cwd,
    logger,
    ...(options.standby !== undefined && { standby: true }),
  }
  const common = {
    [VARS.entry]: entry,
    [VARS.source]: source,
    [VARS.accessLog]: options.accessLog === true ? '1' : '0',
    [VARS.logFormat]: logger.format ?? 'pretty',
    ...(options.standby?.preload !== undefined && { [VARS.preload]: options.standby.preload }),
    ...(logger.mark !== undefined && { [VARS.logMark]: logger.mark }),
    // Calls between the services served here carry it; their internal workers require it.
    ...(layout.local.length > 0 && { [VARS.internalToken]: randomBytes(24).toString('base64url') }),
    ...(layout.addresses.size > 0 && {
      [VARS.depends]: [...layout.addresses].map(([name, url]) => `${name}=${url}`).join(','),
    }),
  }
  const hooks = [...layout.local, ...layout.entry.services]
    .filter((s) => s.onDeployment)
    .map((s) => s.name)
  const deploy = hooks.length === 0 ? undefined : () => deployment.deploy(hooks)
  if (deploy === undefined) deployment.done()

  const entryEnv = {
    ...options.env,
    ...common,
    ...poolEnv(
      layout,
      layout.entry.services,
      layout.entry.services[0]?.name ?? poolName(layout),
      layout.only
    ),
  }
  const entryOptions = (port: number | undefined, onDeployment?: () => Promise<void>) => ({
    ...base,
    assignments: plans.entry.assignments,
    ...(port !== undefined && { port }),
    ...(options.host !== undefined && { host: options.host }),
    ...(options.portSharing !== undefined && { portSharing: options.portSharing }),
    ...(options.adminPort !== undefined && { adminPort: options.adminPort }),
    env: entryEnv,
    drainTimeout: options.drainTimeout ?? plans.entry.settings.drainTimeout,
    restart: plans.entry.settings.restart,
    ...(plans.entry.settings.maxMemory !== undefined && {
      maxMemory: plans.entry.settings.maxMemory,
    }),
    ...(onDeployment && { onDeployment }),
  })

  let supervisor: Supervisor
  let pools: ServedPool[]
  if (layout.local.length === 0) {
    const single = supervise(entryOptions(options.port, deploy))
    supervisor = single
    pools = [{ name: poolName(layout), plan: plans.entry, supervisor: single, internal: false }]
  } else {
    const started = await startGraph(layout, plans, {
      base,
      common,
      options,
      logger,
      deploy,
      deployment,
      entryOptions,
      entryName: poolName(layout),
    })
    supervisor = started.supervisor
    pools = started.pools
  }
  if (options.signals !== false) handleSignals(supervisor)
  try {
    await supervisor.ready
  } catch {
    const { error } = await supervisor.exited
    if (deploy) deployment.done()
    throw error ?? new Error('the supervisor stopped before every worker was ready')
  }
  const host = options.host ?? '0.0.0.0'
  const shown = host === '0.0.0.0' || host === '::' ? 'localhost' : host
  const url = `http://${shown.includes(':') ? `[${shown}]` : shown}:${supervisor.port}`
  return { supervisor, description, layout, plan: plans.entry, pools, url, logger }
}

const DEFAULT_TRACING = normalizeTracing(undefined, () => {
  throw new Error('unreachable: the default tracing section is valid')
})

function poolName(layout: GraphLayout): string {
  return layout.entry.kind === 'service' ? layout.entry.services[0]!.name : 'app'
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
