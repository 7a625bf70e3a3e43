import { DEFAULTS } from '@bento/core'
import { createLogger } from '@bento/core/supervisor'
import { parseLogFormat, parsePort, parseWorkers, portFrom } from '../options.ts'
import { banner, routeConsole, startEntry } from '../start.ts'

/** `bento serve`'s flags, already checked. */
export interface ServeCommandOptions {
  port: number
  host: string
  workers: number | undefined
  logFormat: 'pretty' | 'json'
  /** A line per request (on unless `--no-access-log`). */
  accessLog: boolean
  /** `--admin-port`: health checks and /metrics on a port of their own. */
  adminPort?: number
  /** `--service`: one service of the graph alone. */
  service?: string | undefined
  /** `--depends`: addresses of dependencies served elsewhere. */
  depends?: Record<string, string>
}

/** `bento serve`'s flags as they were typed; the command line and an image's entry both parse to this. */
export interface ServeFlags {
  port?: string | undefined
  host?: string | undefined
  workers?: string | undefined
  logFormat?: string | undefined
  /** False with `--no-access-log`. */
  accessLog: boolean
  adminPort?: string | undefined
  service?: string | undefined
  depends: Record<string, string>
}

/**
 * `bento serve`'s flags checked, with their defaults: `$PORT` else 3000, `$HOST` else 0.0.0.0
 * (a container's port is published from outside it), a pretty log.
 * @example
 * serveOptions({ port: '8080', accessLog: true, depends: {} }, process.env).port // 8080
 */
export function serveOptions(
  flags: ServeFlags,
  env: Record<string, string | undefined>
): ServeCommandOptions {
  return {
    port: portFrom(flags.port, env.PORT) ?? DEFAULTS.listen.port,
    host: flags.host ?? env.HOST ?? DEFAULTS.listen.host,
    workers: flags.workers === undefined ? undefined : parseWorkers(flags.workers),
    logFormat: parseLogFormat(flags.logFormat ?? 'pretty'),
    accessLog: flags.accessLog,
    ...(flags.adminPort !== undefined && {
      adminPort: parsePort(flags.adminPort, '--admin-port'),
    }),
    service: flags.service,
    depends: flags.depends,
  }
}

/**
 * `bento serve [entry]`: production. Workers come from the service's strategy (`--workers`
 * overrides), SIGTERM/SIGINT drain them, SIGHUP replaces them one by one.
 * @example
 * await serve('service.ts', { port: 3000, host: '0.0.0.0', workers: undefined, logFormat: 'json', accessLog: true }, process.cwd())
 */
export async function serveCommand(
  entryArg: string | undefined,
  options: ServeCommandOptions,
  cwd: string
): Promise<void> {
  const logger = createLogger({ format: options.logFormat })
  if (options.logFormat === 'json') routeConsole(logger)
  const started = await startEntry(entryArg, cwd, {
    port: options.port,
    host: options.host,
    workers:
      options.workers === undefined ? undefined : { count: options.workers, source: '--workers' },
    logger,
    accessLog: options.accessLog,
    ...(options.adminPort !== undefined && { adminPort: options.adminPort }),
    env: { NODE_ENV: process.env.NODE_ENV ?? 'production' },
    ...(options.service !== undefined && { service: options.service }),
    ...(options.depends !== undefined && { depends: options.depends }),
  })
  // Nothing recompiles in production: the compiler's process goes now.
  await started.compiled?.dispose()
  logger.log('info', banner(started, 'serve'))
  await started.serving.supervisor.exited
}
