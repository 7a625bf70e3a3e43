import { statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import { createLogger } from '@bento/core/supervisor'
import { banner, startEntry } from '../start.ts'
import { watchProject } from '../watch.ts'

/** `bento dev`'s flags, already checked. */
export interface DevOptions {
  port: number
  host: string
  workers: number | undefined
  watch: boolean
  /** A line per request (`--access-log`; off by default in dev). */
  accessLog: boolean
}

/**
 * `bento dev [entry]`: one worker (unless `--workers`) on 127.0.0.1:3000, reloaded on every save.
 * A save that breaks the code prints the error and leaves the last good workers serving.
 * @example
 * await dev(undefined, { port: 3000, host: '127.0.0.1', workers: undefined, watch: true, accessLog: false }, process.cwd())
 */
export async function dev(
  entryArg: string | undefined,
  options: DevOptions,
  cwd: string
): Promise<void> {
  const logger = createLogger({ format: 'pretty' })
  const started = await startEntry(entryArg, cwd, {
    port: options.port,
    host: options.host,
    workers:
      options.workers === undefined
        ? { count: 1, source: 'bento dev runs one worker; --workers runs more' }
        : { count: options.workers, source: '--workers' },
    logger,
    accessLog: options.accessLog,
    env: { NODE_ENV: 'development', BENTO_ENV: 'development' },
    // A reload should not wait long for a request that hangs in code being edited.
    drainTimeout: 2,
  })
  const { supervisor } = started.serving
  if (options.watch) {
    const root = watchRoot(entryArg, started.file, cwd)
    const watcher = watchProject(root, async (changed) => {
      const shown = changed.map((file) => relative(cwd, file) || file).join(', ')
      logger.log('info', `${shown} changed: reloading`)
      const began = performance.now()
      try {
        await started.compiled?.rebuild()
        await supervisor.reload()
        logger.log('info', `reloaded in ${Math.round(performance.now() - began)} ms`)
      } catch (error) {
        const message = error instanceof Error ? error.message : String(error)
        logger.log('error', `reload failed, still serving the last good version: ${message}`)
      }
    })
    void supervisor.exited.then(() => watcher.close())
    // The banner waits for the watcher's first scan: a save made after it is never missed.
    await watcher.ready
  }
  logger.log('info', banner(started, 'dev'))
  await supervisor.exited
}

// What a save in which reloads: the directory named (`bento dev examples/hello`), else the
// working directory when the entry is inside it, else the entry's own directory.
function watchRoot(entryArg: string | undefined, file: string, cwd: string): string {
  if (entryArg !== undefined) {
    const given = resolve(cwd, entryArg)
    if (statSync(given).isDirectory()) return given
  }
  return file.startsWith(`${cwd}/`) ? cwd : dirname(file)
}
