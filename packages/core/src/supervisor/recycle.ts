// Memory recycling (`maxMemory`): a periodic look at each ready worker's resident memory; one
// above the limit for OVER_CHECKS checks in a row is replaced like a reload replaces it. A worker
// already above it at its first check is warned about once and left alone: its successor would
// need as much, and replacing it would only loop.
import process from 'node:process'
import { formatBytes } from '../units.ts'
import { rssOf } from './memory.ts'

// Checks in a row above maxMemory before a worker is replaced: one high reading may be a burst.
const OVER_CHECKS = 3

/** What the recycler reads and marks of one worker index (the supervisor's slot). */
export interface RecycledSlot {
  readonly index: number
  readonly current: { readonly pid: number; readonly state: string } | undefined
  /** Checks in a row that found the current worker above the limit. */
  over: number
  /** True from the moment a recycle is queued until it settled: no second one is queued. */
  recycling: boolean
}

/** What the recycler needs of the supervisor. */
export interface RecyclerHost<S extends RecycledSlot> {
  readonly slots: readonly S[]
  stopping(): boolean
  log(level: 'info' | 'warn', msg: string, worker?: number): void
  /** Replaces the slot's worker (queued behind a reload in progress). */
  replace(slot: S, why: string): Promise<void>
  /** One worker was recycled (counted in the supervisor's stats). */
  recycled(): void
}

/** Replaces the workers that stay above `max` bytes; checks every `intervalSeconds`. */
export class MemoryRecycler<S extends RecycledSlot> {
  /** Processes found above the limit right after they started: warned about once, not recycled. */
  private readonly bornOver = new WeakSet<object>()
  /** Processes whose memory was checked at least once since they became ready. */
  private readonly sampled = new WeakSet<object>()
  private timer: ReturnType<typeof setInterval> | undefined

  constructor(
    private readonly max: number,
    private readonly intervalSeconds: number,
    private readonly host: RecyclerHost<S>
  ) {}

  /** Starts the checks; says once, and does nothing, where /proc can't tell a process's memory. */
  start(): void {
    if (rssOf(process.pid) === undefined) {
      this.host.log(
        'warn',
        `maxMemory (${formatBytes(this.max)}) is not enforced: it needs /proc/<pid>/status, which this system lacks (Linux only)`
      )
      return
    }
    this.timer = setInterval(() => this.check(), this.intervalSeconds * 1000)
  }

  stop(): void {
    clearInterval(this.timer)
  }

  private check() {
    const { host, max } = this
    if (host.stopping()) return
    for (const slot of host.slots) {
      const worker = slot.current
      // While its successor starts (seconds on a busy machine), the old worker is still current
      // and still over the limit: counting on would queue a second recycle, of the successor.
      if (worker?.state !== 'ready' || this.bornOver.has(worker) || slot.recycling) {
        slot.over = 0
        continue
      }
      const rss = rssOf(worker.pid)
      const first = !this.sampled.has(worker)
      this.sampled.add(worker)
      if (rss === undefined || rss <= max) {
        // Once per worker: what a fresh one needs, beside the limit it will be held to.
        if (first && rss !== undefined) {
          host.log(
            'info',
            `resident memory ${formatBytes(rss)} at its first check, under maxMemory (${formatBytes(max)})`,
            slot.index
          )
        }
        slot.over = 0
        continue
      }
      // Over the limit at its first check after it became ready: a fresh worker needs this much,
      // and a successor would too. Replacing it would only loop; say what to change, once.
      if (first) {
        this.bornOver.add(worker)
        host.log(
          'warn',
          `uses ${formatBytes(rss)} right after start, above maxMemory (${formatBytes(max)}); it is not recycled: raise maxMemory above what a fresh worker needs`,
          slot.index
        )
        continue
      }
      slot.over += 1
      if (slot.over < OVER_CHECKS) continue
      slot.over = 0
      slot.recycling = true
      const why = `resident memory ${formatBytes(rss)} stayed above maxMemory (${formatBytes(max)})`
      host.replace(slot, why).then(
        () => {
          slot.recycling = false
          host.recycled()
        },
        () => {
          slot.recycling = false
        }
      )
    }
  }
}
