// Watches a project for `bento dev`. chokidar rather than fs.watch: it handles editors that save by
// renaming, recursive directories on every platform, and gives one API on Node, Bun and Deno.
import chokidar from 'chokidar'

/** Directories never worth a reload. */
const IGNORED =
  /(^|[/\\])(node_modules|\.git|dist|build|out|coverage|\.turbo|\.cache|\.next|target)([/\\]|$)/

/**
 * Calls `onChange` with the files that changed, once per burst of saves (50 ms), never while a
 * previous call is still running (changes meanwhile are batched into one more call).
 * @example
 * const watcher = watchProject(process.cwd(), async (files) => reload())
 * await watcher.close()
 */
export function watchProject(root: string, onChange: (files: string[]) => Promise<void>) {
  const watcher = chokidar.watch(root, {
    ignored: (path) => IGNORED.test(path),
    ignoreInitial: true,
  })
  let pending = new Set<string>()
  let timer: ReturnType<typeof setTimeout> | undefined
  let running: Promise<void> | undefined
  const flush = async () => {
    timer = undefined
    if (running) return
    const files = [...pending]
    pending = new Set()
    running = onChange(files).finally(() => {
      running = undefined
      if (pending.size > 0) schedule()
    })
  }
  const schedule = () => {
    if (timer === undefined) timer = setTimeout(flush, 50)
  }
  watcher.on('all', (_event, path) => {
    pending.add(path)
    schedule()
  })
  return {
    /** Resolves once the watcher is ready to report changes. */
    ready: new Promise<void>((resolve) => watcher.once('ready', () => resolve())),
    close: async () => {
      if (timer !== undefined) clearTimeout(timer)
      await watcher.close()
    },
  }
}
