// The pools of a graph with dependencies served here: the public port checked, onDeployment run,
// then every pool started at once, each dependency's on private sockets, so that the tiers load
// (import, onStartup, models) side by side; a worker says it is ready only once each dependency
// it calls has a ready worker (worker.ts), so the graph is still ready from its leaves up. Every
// caller is told where its dependencies' workers are as that changes.
import { mkdirSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import process from 'node:process'
import { claimPort } from '../runtime/port.ts'
import { DEFAULTS } from '../service/defaults.ts'
import type { Logger } from '../supervisor/logger.ts'
import type { SuperviseOptions } from '../supervisor/options.ts'
import { MAX_SOCKET_PATH, socketDirectory } from '../supervisor/socket-dir.ts'
import { type Supervisor, supervise } from '../supervisor/supervisor.ts'
import { VARS } from '../vars.ts'
import type { Deployment } from './deployment.ts'
import { type ServicePool, superviseGraph } from './graph-supervisor.ts'
import { type GraphLayout, localDependencies, poolEnv } from './layout.ts'
import type { planGraph } from './pool.ts'
import type { ServedPool, ServeOptions } from './types.ts'

/** What `startGraph` needs from `serve()`. */
export interface GraphStart {
  base: Omit<SuperviseOptions, 'assignments'>
  common: Record<string, string>
  options: ServeOptions
  logger: Logger
  deploy: (() => Promise<void>) | undefined
  deployment: Deployment
  entryOptions: (port: number | undefined) => SuperviseOptions
  /** How the entry's pool is named. */
  entryName: string
}

// A worker's socket is <root>/<service>/<index>.<generation>.sock; this is the longest name
// counted on.
const LONGEST_SOCKET = '9999.99999.sock'

// A service's own directory: its name, or its position in the graph where the name is too long.
function serviceDir(root: string, service: string, position: number): string {
  const named = join(root, service)
  return join(named, LONGEST_SOCKET).length <= MAX_SOCKET_PATH
    ? named
    : join(root, String(position))
}

/**
 * Starts the dependencies served here and the entry, all at once; the public port is checked
 * first, so that a busy one fails before any download. A pool that fails before it is ready takes
 * the graph down (see superviseGraph), and the graph's `ready` rejects with its error.
 * @example
 * const { supervisor, pools } = await startGraph(layout, plans, start)
 */
export async function startGraph(
  layout: GraphLayout,
  plans: ReturnType<typeof planGraph>,
  start: GraphStart
): Promise<{ supervisor: Supervisor; pools: ServedPool[] }> {
  const { options, logger } = start
  const port = await claimPort(
    options.host ?? DEFAULTS.listen.host,
    options.port ?? DEFAULTS.listen.port
  )
  const transport = options.transport ?? (process.platform === 'win32' ? 'tcp' : 'unix')
  const dir = socketDirectory(`/1/${LONGEST_SOCKET}`.length)
  const cleanup = () => rmSync(dir, { recursive: true, force: true })
  const pools: ServedPool[] = []
  // Who calls each dependency, and where its workers were last seen: a caller started later
  // learns them before its first worker does.
  const callers = new Map<string, Supervisor[]>()
  const seen = new Map<string, string[]>()
  const supervisors = new Map<string, Supervisor>()
  const graphGather = (asker: Supervisor) => async (topic: string) =>
    Promise.all(
      pools
        .filter((p) => p.supervisor !== asker)
        .map(async (p) => ({ service: p.name, values: await p.supervisor.gather(topic) }))
    )
  const connect = (supervisor: Supervisor, calls: string[]) => {
    for (const name of calls) {
      callers.set(name, [...(callers.get(name) ?? []), supervisor])
      supervisor.setPeers(name, seen.get(name) ?? [])
    }
  }
  const stopAll = async () => {
    for (const pool of [...pools].reverse()) await pool.supervisor.stop()
    cleanup()
  }
  try {
    if (start.deploy) {
      logger.log('info', 'running onDeployment')
      await start.deploy()
    }
    for (const [position, service] of layout.local.entries()) {
      const plan = plans.local.get(service.name)!
      const own = serviceDir(dir, service.name, position + 1)
      mkdirSync(own, { mode: 0o700 })
      const internal = { dir: own, transport } as const
      let supervisor: Supervisor | undefined
      supervisor = supervise({
        ...start.base,
        assignments: plan.assignments,
        env: {
          ...options.env,
          ...start.common,
          [VARS.socketDir]: dir,
          ...poolEnv(layout, [service], service.name, service.name),
        },
        drainTimeout: options.drainTimeout ?? plan.settings.drainTimeout,
        restart: plan.settings.restart,
        ...(plan.settings.maxMemory !== undefined && { maxMemory: plan.settings.maxMemory }),
        internal,
        onEndpoints: (endpoints) => {
          seen.set(service.name, endpoints)
          for (const caller of callers.get(service.name) ?? []) {
            caller.setPeers(service.name, endpoints)
          }
        },
        graphGather: (topic) => graphGather(supervisor!)(topic),
        logger: prefixed(logger, service.name),
      })
      supervisors.set(service.name, supervisor)
      connect(supervisor, localDependencies(layout, [service]))
      pools.push({ name: service.name, plan, supervisor, internal: true })
    }
    let entry: Supervisor | undefined
    const entryOptions = start.entryOptions(port)
    entry = supervise({
      ...entryOptions,
      env: { ...entryOptions.env, [VARS.socketDir]: dir },
      graphGather: (topic) => graphGather(entry!)(topic),
    })
    connect(entry, localDependencies(layout, layout.entry.services))
    pools.push({ name: start.entryName, plan: plans.entry, supervisor: entry, internal: false })
    const graph = superviseGraph(
      entry,
      pools.filter((p) => p.internal).map((p): ServicePool => p),
      cleanup
    )
    return { supervisor: graph, pools }
  } catch (error) {
    if (start.deploy) start.deployment.done()
    await stopAll()
    throw error
  }
}

// A dependency's lines name it: "[bento] embedder worker 1: ready", "[embedder 1] loaded".
function prefixed(logger: Logger, name: string): Logger {
  return {
    ...(logger.format !== undefined && { format: logger.format }),
    ...(logger.mark !== undefined && { mark: logger.mark }),
    log: (level, message, worker) => logger.log(level, message, worker, name),
    output: (source, stream, line) => logger.output(source, stream, line, name),
  }
}
