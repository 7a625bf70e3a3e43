import { statSync } from 'node:fs'
import { dirname, relative, resolve } from 'node:path'
import type { ServedPool, Serving } from '@bento/core/serve'
import { createLogger } from '@bento/core/supervisor'
import { banner, startEntry } from '../start.ts'
import { touchedServices } from '../touched.ts'
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
      const began = performance.now()
      try {
        const [pools] = await Promise.all([
          poolsToReload(started.serving, started.file, changed),
          started.compiled?.rebuild(),
        ])
        const all = pools.length === started.serving.pools.length
        logger.log(
          'info',
          `${shown} changed: reloading ${all ? 'every service' : pools.map((p) => p.name).join(', ')}`
        )
        if (all) await supervisor.reload()
        // Dependencies first, as the graph reloads: pools are in start order.
        else for (const pool of pools) await pool.supervisor.reload()
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

// The pools whose services the changed files touch (touched.ts), in start order; every pool
// when that can't be told.
async function poolsToReload(
  serving: Serving,
  entry: string,
  changed: string[]
): Promise<readonly ServedPool[]> {
  const { description, layout, pools } = serving
  const touched = await touchedServices(
    entry,
    [...description.services, ...description.graph],
    changed
  )
  if (touched === undefined) return pools
  const entryServices = layout.entry.services.map((s) => s.name)
  return pools.filter((pool) =>
    (pool.internal ? [pool.name] : entryServices).some((name) => touched.has(name))
  )
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
