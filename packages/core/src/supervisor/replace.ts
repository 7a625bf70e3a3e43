// Rolling replacement: a successor for a worker index is started and, once ready, takes the
// index's connections before the worker it replaces drains; a successor that fails to start leaves
// the old one serving. A reload replaces every index in turn, a memory recycle one; replacements
// of one index queue behind each other.

/** What replacing needs of a worker process. */
export interface Replaceable {
  readonly pid: number
  readonly state: string
  readonly ready: Promise<unknown>
  kill(signal: 'SIGKILL'): void
}

/** What replacing reads and changes of a worker index (the supervisor's slot). */
export interface ReplacedSlot<W extends Replaceable> {
  readonly index: number
  current: W | undefined
  timer: ReturnType<typeof setTimeout> | undefined
  waitingStable: boolean
  /** The replacement in progress; one at a time per index. */
  replacing: Promise<void>
}

/** What replacing needs of the supervisor. */
export interface ReplacerHost<S, W> {
  readonly slots: readonly S[]
  /** Resolves once every worker was ready the first time. */
  readonly ready: Promise<void>
  /** True once the supervisor is stopping or has finished. */
  ending(): boolean
  log(level: 'info' | 'warn' | 'error', msg: string, worker?: number): void
  /** The slot's next worker process (its standby, when one waits). */
  spawn(slot: S): W
  /** Routes connections to the worker. */
  admit(worker: W): void
  /** Stops routing connections to the worker and asks it to drain. */
  drain(worker: W): void
  /** Starts the slot's next standby, when standbys are asked for. */
  standBy(slot: S): void
}

/** Replaces workers one index at a time (see the module comment). */
export class Replacer<S extends ReplacedSlot<W>, W extends Replaceable> {
  constructor(private readonly host: ReplacerHost<S, W>) {}

  /** Replaces every worker, one at a time; rejects (the old ones serving on) when one fails. */
  async rollingRestart(): Promise<void> {
    if (this.host.ending()) throw new Error('the supervisor is stopping; nothing to reload')
    await this.host.ready
    this.host.log('info', `reloading ${this.host.slots.length} workers one at a time`)
    for (const slot of this.host.slots) {
      if (this.host.ending()) throw new Error('the supervisor stopped during the reload')
      try {
        await this.replaceQueued(slot)
      } catch (error) {
        const cause = error instanceof Error ? error : new Error(String(error))
        const failed = new Error(
          `reload failed: the new worker ${slot.index} did not start: ${cause.message}`,
          { cause }
        )
        if (!this.host.ending())
          this.host.log('error', `${failed.message}; the running workers keep serving`)
        throw failed
      }
    }
    this.host.log('info', 'reload done')
  }

  /** `replace(slot)` after any replacement of that index already under way. */
  replaceQueued(slot: S, why?: string): Promise<void> {
    const run = () => this.replace(slot, why)
    const next = slot.replacing.then(run, run)
    slot.replacing = next.catch(() => {})
    return next
  }

  /**
   * Starts a successor for `slot`, waits until it is ready, then drains the worker it replaces.
   * If the successor fails to start, the old worker keeps serving and this rejects with why.
   */
  private async replace(slot: S, why?: string): Promise<void> {
    if (this.host.ending()) throw new Error('the supervisor is stopping')
    const old = slot.current
    if (why !== undefined) {
      if (old === undefined || old.state !== 'ready') return
      this.host.log(
        'warn',
        `${why}: starting its successor, then draining pid ${old.pid}`,
        slot.index
      )
    }
    const fresh = this.host.spawn(slot)
    try {
      await fresh.ready
    } catch (error) {
      fresh.kill('SIGKILL')
      if (why !== undefined && !this.host.ending()) {
        const message = error instanceof Error ? error.message : String(error)
        this.host.log(
          'error',
          `its successor did not start (${message}); pid ${old?.pid} keeps serving`,
          slot.index
        )
      }
      throw error
    }
    if (this.host.ending()) throw new Error('the supervisor stopped during the replacement')
    // The worker may have been restarted meanwhile (it crashed): replace whatever runs now.
    const current = slot.current
    clearTimeout(slot.timer)
    slot.timer = undefined
    slot.waitingStable = false
    slot.current = fresh
    this.host.admit(fresh)
    this.host.log(
      'info',
      `pid ${fresh.pid} ready${current ? `; draining pid ${current.pid}` : ''}`,
      slot.index
    )
    if (current) this.host.drain(current)
    this.host.standBy(slot)
  }
}
