import { existsSync, statSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { DEFAULTS } from '@bento/core'
import type { ServedPool, Serving } from '@bento/core/serve'
import { createLogger } from '@bento/core/supervisor'
import { banner, startEntry } from '../start.ts'
import { touchedServices } from '../touched.ts'
import { watchProject } from '../watch.ts'

/** `bento dev`'s flags, already checked. */
export interface DevOptions {
  /** Default 3000. */
  port: number | undefined
  /** Default 127.0.0.1: this machine only. */
  host: string | undefined
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
    port: options.port ?? DEFAULTS.listen.port,
    host: options.host ?? DEFAULTS.listen.devHost,
    workers:
      options.workers === undefined
        ? { count: 1, source: 'bento dev runs one worker; --workers runs more' }
        : { count: options.workers, source: '--workers' },
    logger,
    accessLog: options.accessLog,
    env: { NODE_ENV: 'development', BENTO_ENV: 'development' },
    // A reload should not wait long for a request that hangs in code being edited.
    drainTimeout: 2,
    // A reload takes a process that has already loaded the runtime, bento and the entry's
    // packages: only the user's code is imported anew (Node: ~0.15 s instead of ~0.4).
    standby: true,
  })
  const { supervisor } = started.serving
  if (options.watch) {
    const root = watchRoot(entryArg, started.file, cwd)
    let packages = packagesStamp(started.file)
    const watcher = watchProject(root, async (changed) => {
      const shown = changed.map((file) => relative(cwd, file) || file).join(', ')
      const began = performance.now()
      try {
        const [pools] = await Promise.all([
          poolsToReload(started.serving, started.file, changed),
          started.compiled?.rebuild(),
        ])
        const all = pools.length === started.serving.pools.length
        // The standbys loaded the packages ahead: after an install, new processes load them anew.
        const stamp = packagesStamp(started.file)
        const fresh = stamp !== packages
        packages = stamp
        if (fresh) logger.log('info', 'packages changed: starting new processes, not the standbys')
        logger.log(
          'info',
          `${shown} changed: reloading ${all ? 'every service' : pools.map((p) => p.name).join(', ')}`
        )
        if (all) await supervisor.reload({ fresh })
        // Dependencies first, as the graph reloads: pools are in start order.
        else for (const pool of pools) await pool.supervisor.reload({ fresh })
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

// Changes when packages are installed, removed or upgraded under the entry's node_modules: npm
// and pnpm replace a package's folder or link there (the folder's mtime) and rewrite their own
// record of what is installed.
function packagesStamp(entry: string): string {
  for (let dir = dirname(entry); ; dir = dirname(dir)) {
    const modules = join(dir, 'node_modules')
    if (existsSync(modules)) {
      return ['', '.package-lock.json', '.modules.yaml']
        .map((name) =>
          existsSync(join(modules, name)) ? statSync(join(modules, name)).mtimeMs : 0
        )
        .join(' ')
    }
    if (dirname(dir) === dir) return ''
  }
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
