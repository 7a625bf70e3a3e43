// The supervisors of a graph as one: the entry's on the public port, one per dependency served
// here on private sockets. They start together (a caller's workers wait until its dependencies
// have ready ones), reload dependencies first, and stop the other way round: the entry drains first, so
// no call reaches a dependency that is already gone. One that ends on its own (a crash loop)
// ends them all, with its error.
import type { Supervisor, SupervisorExit } from '../supervisor/supervisor.ts'

/** One service's pool in a graph. */
export interface ServicePool {
  readonly name: string
  readonly supervisor: Supervisor
}

/**
 * `entry` and `dependencies` (in start order) as one supervisor; its `workers()`, `gather` and
 * `stats` are the entry's. `cleanup` runs once everything has exited.
 * @example
 * const all = superviseGraph(entry, [embedderPool], () => rmSync(dir, { recursive: true }))
 */
export function superviseGraph(
  entry: Supervisor,
  dependencies: readonly ServicePool[],
  cleanup: () => void
): Supervisor {
  const all = [...dependencies.map((d) => d.supervisor), entry]
  let stopping: Promise<SupervisorExit> | undefined
  let first: SupervisorExit | undefined

  const stopInOrder = async (kill: boolean): Promise<SupervisorExit> => {
    // Callers first: the entry, then each dependency after the services that call it.
    for (const supervisor of [...all].reverse()) {
      const exit = await (kill ? supervisor.kill() : supervisor.stop())
      if (exit.code !== 0 && first === undefined) first = exit
    }
    return first ?? { code: 0 }
  }
  const exited = Promise.all(all.map((s) => s.exited)).then((exits) => {
    cleanup()
    return first ?? exits.find((e) => e.code !== 0) ?? { code: 0 }
  })
  // A pool that ends unasked takes the graph down with it.
  for (const supervisor of all) {
    void supervisor.exited.then((exit) => {
      if (stopping !== undefined) return
      if (exit.code !== 0) first ??= exit
      stopping = stopInOrder(false)
    })
  }
  const ready = Promise.all(all.map((s) => s.ready)).then(() => {})
  ready.catch(() => {})

  return {
    ready,
    exited,
    get port() {
      return entry.port
    },
    get adminPort() {
      return entry.adminPort
    },
    runtime: entry.runtime,
    workers: () => entry.workers(),
    async reload(options) {
      for (const supervisor of all) await supervisor.reload(options)
    },
    stop() {
      stopping ??= stopInOrder(false)
      return stopping.then(() => exited)
    },
    kill() {
      stopping = stopInOrder(true)
      return stopping.then(() => exited)
    },
    gather: (topic) => entry.gather(topic),
    stats: () => entry.stats(),
    endpoints: () => entry.endpoints(),
    setPeers: (service, endpoints) => entry.setPeers(service, endpoints),
  }
}
