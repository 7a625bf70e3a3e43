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
import { environment } from '../env.ts'
import { runtimeName } from '../runtime/detect.ts'
import { inheritedExecArgv } from '../runtime/index.ts'
import { DEFAULTS } from '../service/defaults.ts'
import { bearerTokens } from '../service/secret.ts'
import { normalizeTracing } from '../service/tracing.ts'
import { loggerOf } from '../supervisor/logger.ts'
import type { SuperviseOptions } from '../supervisor/options.ts'
import { handleSignals, type Supervisor, supervise } from '../supervisor/supervisor.ts'
import { telemetryConfig } from '../telemetry/config.ts'
import { VARS } from '../vars.ts'
import { startDeployment } from './deployment.ts'
import { type GraphLayout, layoutGraph, operatorAddresses, poolEnv } from './layout.ts'
import { planGraph } from './pool.ts'
import { startGraph } from './start-graph.ts'
import type { ServedPool, ServeOptions, Serving } from './types.ts'

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
  const logger = loggerOf(options.logger)
  const given = options.execArgv ?? inheritedExecArgv()
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
    const addresses = operatorAddresses(userEnv, options.depends, 'depends')
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
  const host = options.host ?? DEFAULTS.listen.host
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
