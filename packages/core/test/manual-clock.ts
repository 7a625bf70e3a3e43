// A clock the test moves by hand: `advance(ms)` runs the timers that fall due, in order, and lets
// every promise settle between them, so time-dependent code is tested without real sleeps.
import type { Clock } from '../src/clock.ts'

interface Timer {
  at: number
  seq: number
  callback: () => void
  cancelled: boolean
}

/** Lets every queued promise reaction run (they all run before the next macrotask). */
export const settle = () => new Promise<void>((resolve) => setImmediate(resolve))

export class ManualClock implements Clock {
  time = 0
  private seq = 0
  private timers: Timer[] = []

  now(): number {
    return this.time
  }

  setTimeout(callback: () => void, ms: number): unknown {
    const timer = { at: this.time + Math.max(0, ms), seq: ++this.seq, callback, cancelled: false }
    this.timers.push(timer)
    return timer
  }

  clearTimeout(handle: unknown): void {
    if (handle) (handle as Timer).cancelled = true
  }

  /** Moves time forward by `ms`, firing due timers in order with promises settled in between. */
  async advance(ms: number): Promise<void> {
    const end = this.time + ms
    await settle()
    for (;;) {
      const due = this.timers
        .filter((t) => !t.cancelled && t.at <= end)
        .sort((a, b) => a.at - b.at || a.seq - b.seq)[0]
      if (!due) break
      this.timers.splice(this.timers.indexOf(due), 1)
      this.time = Math.max(this.time, due.at)
      due.callback()
      await settle()
    }
    this.time = end
    await settle()
  }

  /** Timers still to fire. */
  get pending(): number {
    return this.timers.filter((t) => !t.cancelled).length
  }
}

/** Resolves with `value` after `ms` of the clock's time. */
export function after<T>(clock: Clock, ms: number, value: T): Promise<T> {
  return new Promise((resolve) => clock.setTimeout(() => resolve(value), ms))
}
