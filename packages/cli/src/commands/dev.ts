import { relative } from 'node:path'
import { resolveEntry } from '../entry.ts'
import { loadEntry } from '../load.ts'
import { banner, startService } from '../start.ts'
import { watchProject } from '../watch.ts'

/** `bento dev`'s flags, already checked. */
export interface DevOptions {
  port: number
  host: string
  workers: number | undefined
  watch: boolean
}

/**
 * `bento dev [entry]`: one worker (unless `--workers`) on 127.0.0.1:3000, reloaded on every save.
 * A save that breaks the code prints the error and leaves the last good workers serving.
 * @example
 * await dev(undefined, { port: 3000, host: '127.0.0.1', workers: undefined, watch: true }, process.cwd())
 */
export async function dev(
  entryArg: string | undefined,
  options: DevOptions,
  cwd: string
): Promise<void> {
  const entry = await loadEntry(resolveEntry(entryArg, cwd))
  const started = await startService(entry, {
    port: options.port,
    host: options.host,
    workers: options.workers ?? 1,
    logFormat: 'pretty',
    env: { NODE_ENV: 'development', BENTO_ENV: 'development' },
    // A reload should not wait long for a request that hangs in code being edited.
    drainTimeout: 2,
  })
  const { supervisor, logger } = started
  if (options.watch) {
    const watcher = watchProject(cwd, async (changed) => {
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
  logger.log('info', banner(entry, started, 'dev'))
  await supervisor.exited
}
