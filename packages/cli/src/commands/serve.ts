import { createLogger } from '@bento/core/supervisor'
import { resolveEntry } from '../entry.ts'
import { loadEntry } from '../load.ts'
import { banner, routeConsole, startService } from '../start.ts'

/** `bento serve`'s flags, already checked. */
export interface ServeOptions {
  port: number
  host: string
  workers: number | undefined
  logFormat: 'pretty' | 'json'
}

/**
 * `bento serve [entry]`: production. Workers come from the service's strategy (`--workers`
 * overrides), SIGTERM/SIGINT drain them, SIGHUP replaces them one by one.
 * @example
 * await serve('service.ts', { port: 3000, host: '0.0.0.0', workers: undefined, logFormat: 'json' }, process.cwd())
 */
export async function serve(
  entryArg: string | undefined,
  options: ServeOptions,
  cwd: string
): Promise<void> {
  const logger = createLogger({ format: options.logFormat })
  // Before the entry is imported: its top-level code may print too.
  if (options.logFormat === 'json') routeConsole(logger)
  const entry = await loadEntry(resolveEntry(entryArg, cwd))
  const started = await startService(entry, {
    port: options.port,
    host: options.host,
    workers: options.workers,
    logFormat: options.logFormat,
    logger,
    env: { NODE_ENV: process.env.NODE_ENV ?? 'production' },
  })
  started.logger.log('info', banner(entry, started, 'serve'))
  await started.supervisor.exited
}
