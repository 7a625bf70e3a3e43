// What `bento dev` and `bento serve` share: probe the machine, plan the workers, start the
// supervisor on the worker entry, and report where the service answers.
import { format } from 'node:util'
import { environment, plan, type WorkerPlan } from '@bento/core'
import {
  createLogger,
  type LogFormat,
  type Logger,
  runSupervisor,
  type Supervisor,
} from '@bento/core/supervisor'
import { probe } from '@bento/native'
import { type CompiledEntry, compileEntry } from './compile.ts'
import type { Entry } from './load.ts'

/** How to start the workers. */
export interface StartOptions {
  port: number
  host: string
  /** `--workers`, when given. */
  workers: number | undefined
  logFormat: LogFormat
  /** Extra variables for every worker. */
  env?: Record<string, string>
  /** Seconds a draining worker may take; default the service's `drainTimeout`. */
  drainTimeout?: number
  /** Where the supervisor logs; default a new logger in `logFormat`. */
  logger?: Logger
}

/** A started service: its supervisor, the plan it runs, and the logger it writes to. */
export interface Started {
  supervisor: Supervisor
  plan: WorkerPlan | undefined
  logger: Logger
  url: string
  /** The entry compiled for Node workers (see compile.ts), when it was. */
  compiled: CompiledEntry | undefined
}

/**
 * The workers for an entry: a service's plan (strategy, GPUs, threads), or N plain workers for an
 * app entry.
 * @example
 * const { plan, assignments } = planEntry(entry, 2)
 */
export function planEntry(entry: Entry, workers: number | undefined) {
  if (entry.kind === 'app') {
    const count = workers ?? 1
    const assignments = Array.from({ length: count }, (_, i) => ({ workerIndex: i + 1, env: {} }))
    return { plan: undefined, assignments }
  }
  const result = plan(entry.service, { probe: probe(), env: environment(), workers })
  return { plan: result, assignments: result.assignments }
}

/**
 * The module every worker runs: this package's worker.js, named by its npm: specifier when Deno
 * runs the CLI from its npm cache (`deno run -A npm:bento`), where a plain path would not resolve.
 * @example
 * supervise({ workerEntry: workerEntry(), assignments })
 */
export function workerEntry(): string | URL {
  const own = new URL('./worker.js', import.meta.url)
  const fromNpm = /\/npm\/[^/]+\/bento\/([^/]+)\/dist\/[^/]+$/.exec(import.meta.url)
  if ((globalThis as { Deno?: unknown }).Deno !== undefined && fromNpm)
    return `npm:bento@${fromNpm[1]}/worker`
  return own
}

/**
 * Starts the supervisor for `entry` with signal handling (SIGTERM/SIGINT drain, SIGHUP reloads)
 * and resolves once every worker is ready.
 * @example
 * const { url } = await startService(entry, { port: 3000, host: '127.0.0.1', workers: 1, logFormat: 'pretty' })
 */
export async function startService(entry: Entry, options: StartOptions): Promise<Started> {
  const logger = options.logger ?? createLogger({ format: options.logFormat })
  const { plan: workerPlan, assignments } = planEntry(entry, options.workers)
  for (const warning of workerPlan?.warnings ?? []) logger.log('warn', warning)
  for (const reason of workerPlan?.reasons ?? []) logger.log('info', reason)
  const settings = entry.kind === 'service' ? entry.service.settings : undefined
  const g = globalThis as { Bun?: unknown; Deno?: unknown }
  const onNode = g.Bun === undefined && g.Deno === undefined
  const compiled = onNode ? await compileEntry(entry.file) : undefined
  const supervisor = runSupervisor({
    workerEntry: workerEntry(),
    assignments,
    port: options.port,
    host: options.host,
    // Source maps keep a compiled entry's stack traces on its .ts lines.
    ...(compiled && {
      execArgv: [
        ...process.execArgv.filter((arg) => !arg.startsWith('--inspect')),
        '--enable-source-maps',
      ],
    }),
    env: {
      ...options.env,
      BENTO_ENTRY: compiled?.file ?? entry.file,
      BENTO_SOURCE: entry.file,
    },
    drainTimeout: options.drainTimeout ?? settings?.drainTimeout,
    restart: settings?.restart,
    maxMemory: settings?.maxMemory,
    onDeployment: entry.kind === 'service' ? entry.service.config.onDeployment : undefined,
    logger,
  })
  void supervisor.exited.then(() => compiled?.dispose())
  await supervisor.ready
  const shownHost = options.host === '0.0.0.0' || options.host === '::' ? 'localhost' : options.host
  const url = `http://${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${supervisor.port}`
  return { supervisor, plan: workerPlan, logger, url, compiled }
}

/**
 * Sends this process's own console output (the service module's top-level code also runs here)
 * through the logger, so a JSON log stays one JSON object per line.
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
 * The lines printed once the service is up: where it answers, its docs, and its APIs.
 * @example
 * logger.log('info', banner(entry, started, 'dev'))
 */
export function banner(entry: Entry, started: Started, mode: 'dev' | 'serve'): string {
  const count = started.supervisor.workers().length
  const name = entry.kind === 'service' ? entry.service.name : entry.file
  const lines = [
    `bento ${mode}: ${name} on ${started.supervisor.runtime}, ${count} worker${count === 1 ? '' : 's'}, at ${started.url}`,
  ]
  if (entry.kind === 'service') {
    lines.push(
      `  docs ${started.url}/   openapi ${started.url}/docs.json   metrics ${started.url}/metrics`
    )
    for (const api of entry.service.apis) lines.push(`  ${api.method} ${started.url}${api.route}`)
  }
  return lines.join('\n')
}
