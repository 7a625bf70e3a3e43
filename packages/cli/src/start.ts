// What `bento dev` and `bento serve` share: the entry as the user gave it, compiled once on Node
// when it is TypeScript, handed to @bento/core's serve(), and the lines printed once it is up.
import { format } from 'node:util'
import { runtimeName } from '@bento/core/adapter'
import { inheritedExecArgv, type PlanOptions, type Serving, serve } from '@bento/core/serve'
import type { Logger } from '@bento/core/supervisor'
import { type CompiledEntry, compileEntry } from './compile.ts'
import { resolveEntry } from './entry.ts'

/** How to start an entry, from the command's flags. */
export interface StartOptions {
  port: number
  host: string
  /** A worker count over the strategy, and where it came from. */
  workers: PlanOptions['workers']
  logger: Logger
  /** Variables for every process. */
  env: Record<string, string>
  /** Seconds a draining worker gets, over the service's `drainTimeout`. */
  drainTimeout?: number
  /** A line per request from every worker. */
  accessLog?: boolean
  /** A second port for the health checks and /metrics. */
  adminPort?: number
  /** One service of the graph to serve alone. */
  service?: string
  /** Addresses of dependencies served elsewhere, by service name. */
  depends?: Record<string, string>
  /** Keep a warm standby per worker, preloaded with the entry's packages (`bento dev`). */
  standby?: boolean
}

/** A started entry, and its compiled form when it has one. */
export interface Started {
  serving: Serving
  compiled: CompiledEntry | undefined
  file: string
}

/**
 * Finds the entry (a file, a directory, or `cwd`), compiles it on Node when it is TypeScript, and
 * serves it with SIGTERM/SIGINT draining and SIGHUP reloading; resolves once every worker is ready.
 * @example
 * const { serving } = await startEntry('examples/hello', process.cwd(), options)
 */
export async function startEntry(
  entryArg: string | undefined,
  cwd: string,
  options: StartOptions
): Promise<Started> {
  const file = resolveEntry(entryArg, cwd)
  const compiled = runtimeName() === 'node' ? await compileEntry(file) : undefined
  const serving = await serve({
    entry: compiled?.file ?? file,
    source: file,
    workerModule: workerModule(),
    port: options.port,
    host: options.host,
    ...(options.workers && { workers: options.workers }),
    ...(options.drainTimeout !== undefined && { drainTimeout: options.drainTimeout }),
    ...(options.service !== undefined && { service: options.service }),
    ...(options.depends !== undefined && { depends: options.depends }),
    ...(options.accessLog !== undefined && { accessLog: options.accessLog }),
    ...(options.adminPort !== undefined && { adminPort: options.adminPort }),
    env: options.env,
    ...(options.standby && { standby: compiled ? { preload: compiled.preload } : {} }),
    // Source maps keep a compiled entry's stack traces on its .ts lines.
    ...(compiled && {
      execArgv: [...inheritedExecArgv(), '--enable-source-maps'],
    }),
    logger: options.logger,
    cwd,
  }).catch(async (error: unknown) => {
    await compiled?.dispose()
    throw error
  })
  void serving.supervisor.exited.then(() => compiled?.dispose())
  return { serving, compiled, file }
}

/**
 * The module every worker runs: this package's worker.js, named by its npm: specifier when Deno
 * runs the CLI from its npm cache (`deno run -A npm:bento`), where a plain path would not resolve.
 * @example
 * serve({ entry, workerModule: workerModule() })
 */
export function workerModule(): string | URL {
  const own = new URL('./worker.js', import.meta.url)
  const fromNpm = /\/npm\/[^/]+\/bento\/([^/]+)\/dist\/[^/]+$/.exec(import.meta.url)
  if (runtimeName() === 'deno' && fromNpm) return `npm:bento@${fromNpm[1]}/worker`
  return own
}

/**
 * Sends this process's own console output through the logger, so that a JSON log stays one JSON
 * object per line.
 * @example
 * routeConsole(createLogger({ format: 'json' }))
 */
export function routeConsole(logger: Logger): void {
  const levels = { log: 'info', info: 'info', debug: 'info', warn: 'warn', error: 'error' } as const
  for (const [method, level] of Object.entries(levels)) {
    console[method as keyof typeof levels] = (...args: unknown[]) =>
      logger.log(level, format(...args))
  }
}

/**
 * The lines printed once the entry is up: where it answers, its docs, its APIs, and the services
 * it depends on (served here by workers of their own, or called at their addresses).
 * @example
 * logger.log('info', banner(started, 'dev'))
 */
export function banner({ serving, file }: Started, mode: 'dev' | 'serve'): string {
  const { supervisor, layout, url, pools } = serving
  const count = supervisor.workers().filter((w) => w.status !== 'draining').length
  const services = layout.entry.services
  const name = layout.entry.kind === 'service' ? services[0]!.name : file
  const lines = [
    `bento ${mode}: ${name} on ${supervisor.runtime}, ${count} worker${count === 1 ? '' : 's'}, at ${url}`,
  ]
  if (layout.entry.kind === 'service') {
    const admin = supervisor.adminPort
    const metrics =
      admin === undefined ? `${url}/metrics` : `${url.replace(/:\d+$/, `:${admin}`)}/metrics`
    lines.push(`  docs ${url}/   openapi ${url}/docs.json   metrics ${metrics}`)
    for (const api of services[0]!.apis) lines.push(`  ${api.method} ${url}${api.route}`)
  } else if (services.length > 0) {
    lines.push(`  serves ${services.map((s) => s.name).join(', ')}`)
  }
  const local = pools
    .filter((p) => p.internal)
    .map((p) => `${p.name} (${p.plan.workers} worker${p.plan.workers === 1 ? '' : 's'})`)
  const remote = [...layout.remote].map(([dependency, at]) => `${dependency} at ${at}`)
  if (local.length + remote.length > 0)
    lines.push(`  depends on ${[...local, ...remote].join(', ')}`)
  return lines.join('\n')
}
