// Per-worker traffic control, as BentoML's `traffic` settings: at most `maxConcurrency` handlers run
// at once, up to `maxQueue` more requests wait for a permit first come first served, and the rest are
// shed at once with `503` and `Retry-After` (the worker is full; there is no per-client quota, so no
// `429`). A permit is released only when the handler has really returned, even after its request got
// `504`: the model is still busy until then.
import { ResponseError } from './errors.ts'

/** Seconds a shed client is told to wait before it retries. */
export const RETRY_AFTER_SECONDS = 1

interface Waiter {
  resolve: () => void
  state: 'waiting' | 'admitted' | 'cancelled'
}

/** A place in the queue: resolves when the permit is yours; `cancel` gives up the place or the permit. */
export interface Ticket {
  readonly admitted: Promise<void>
  cancel(): void
}

/**
 * Admits `maxConcurrency` callers at once and queues up to `maxQueue` more, in arrival order.
 * @example
 * const limiter = new Limiter(4, 16)
 * if (limiter.tryAcquire()) { try { await work() } finally { limiter.release() } }
 */
export class Limiter {
  #active = 0
  #queue: Waiter[] = []
  #cancelled = 0

  constructor(
    readonly maxConcurrency: number,
    readonly maxQueue: number
  ) {}

  /** Permits in use. */
  get active(): number {
    return this.#active
  }

  /** Callers waiting for a permit. */
  get queued(): number {
    return this.#queue.length - this.#cancelled
  }

  /**
   * Takes a permit if one is free and nobody is waiting for it.
   * @example
   * if (!limiter.tryAcquire()) return queueOrShed()
   */
  tryAcquire(): boolean {
    if (this.#active < this.maxConcurrency && this.queued === 0) {
      this.#active++
      return true
    }
    return false
  }

  /**
   * Joins the queue; `undefined` when it is full.
   * @example
   * const ticket = limiter.enqueue()
   * if (ticket) await ticket.admitted
   */
  enqueue(): Ticket | undefined {
    if (this.queued >= this.maxQueue) return undefined
    let waiter!: Waiter
    const admitted = new Promise<void>((resolve) => {
      waiter = { resolve, state: 'waiting' }
    })
    this.#queue.push(waiter)
    return {
      admitted,
      cancel: () => {
        const was = waiter.state
        waiter.state = 'cancelled'
        if (was === 'waiting') this.#cancelled++
        // Admitted in the same tick as the cancel: the permit is already ours, so hand it on.
        else if (was === 'admitted') this.release()
      },
    }
  }

  /**
   * Frees a permit, handing it straight to the longest-waiting caller if there is one.
   * @example
   * limiter.release()
   */
  release(): void {
    for (;;) {
      const next = this.#queue.shift()
      if (next === undefined) break
      if (next.state === 'cancelled') {
        this.#cancelled--
        continue
      }
      next.state = 'admitted'
      next.resolve()
      return
    }
    this.#active--
  }
}

/**
 * Waits for a permit of `limiter` for at most `ms`. Rejects with `503` when the queue is full, `504`
 * when the wait outlasts the timeout, and `499` when `signal` aborts (the client left); the caller
 * owns the permit (and must `release` it) once this resolves.
 * @example
 * await acquire(limiter, 60_000, request.signal)
 */
export function acquire(
  limiter: Limiter,
  ms: number,
  signal: AbortSignal,
  timeoutSeconds = ms / 1000
): Promise<void> {
  const ticket = limiter.enqueue()
  if (ticket === undefined) return Promise.reject(overloaded(limiter))
  return new Promise<void>((resolve, reject) => {
    const giveUp = (error: ResponseError) => {
      ticket.cancel()
      cleanup()
      reject(error)
    }
    const onAbort = () => giveUp(new ResponseError(499, 'the client closed the request'))
    const timer = setTimeout(() => giveUp(timedOut(timeoutSeconds)), Math.max(0, ms))
    const cleanup = () => {
      clearTimeout(timer)
      signal.removeEventListener('abort', onAbort)
    }
    signal.addEventListener('abort', onAbort, { once: true })
    ticket.admitted.then(() => {
      cleanup()
      resolve()
    })
    if (signal.aborted) onAbort()
  })
}

/**
 * Settles like `work`, or rejects with `504` after `ms` and calls `onTimeout` (which aborts the
 * handler's signal). `work` keeps running: its permit is freed by whoever awaits it.
 * `timeoutSeconds` is the configured timeout, for the error message (`ms` may be what is left of it).
 * @example
 * const output = await withTimeout(handler(input), 60_000, () => control.abort())
 */
export function withTimeout<T>(
  work: Promise<T>,
  ms: number,
  onTimeout: () => void,
  timeoutSeconds = ms / 1000,
  error: (seconds: number) => ResponseError = timedOut
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const deadline = addDeadline(ms, () => {
      onTimeout()
      reject(error(timeoutSeconds))
    })
    work.then(
      (value) => {
        pending.delete(deadline)
        resolve(value)
      },
      (error: unknown) => {
        pending.delete(deadline)
        reject(error)
      }
    )
  })
}

// Every pending deadline of this process shares one timer, armed for the earliest: a timer per
// request cost 2.5 µs on Deno, whose setTimeout and clearTimeout call into its runtime (a third
// of what the adapter added to a request there, measured). A deadline whose work settled is only
// taken out of the set; the timer then wakes once at the time it was armed for and re-arms for
// the earliest left. Unreferenced: it never keeps a process alive that has nothing else to do.
interface Deadline {
  at: number
  fire: () => void
}
const pending = new Set<Deadline>()
let armedAt = Number.POSITIVE_INFINITY
let timer: ReturnType<typeof setTimeout> | undefined

function addDeadline(ms: number, fire: () => void): Deadline {
  const deadline = { at: Date.now() + Math.max(0, ms), fire }
  pending.add(deadline)
  if (deadline.at < armedAt) arm(deadline.at)
  return deadline
}

function arm(at: number): void {
  if (timer !== undefined) clearTimeout(timer)
  armedAt = at
  timer = setTimeout(wake, Math.max(0, at - Date.now()))
  unref(timer)
}

function wake(): void {
  timer = undefined
  armedAt = Number.POSITIVE_INFINITY
  const now = Date.now()
  let next = Number.POSITIVE_INFINITY
  for (const deadline of pending) {
    if (deadline.at <= now) {
      pending.delete(deadline)
      deadline.fire()
    } else if (deadline.at < next) next = deadline.at
  }
  if (next !== Number.POSITIVE_INFINITY) arm(next)
}

// Node and Bun return an object with unref(); Deno a number it unrefs itself; an edge runtime
// neither, and there a pending timer keeps nothing alive anyway.
function unref(handle: ReturnType<typeof setTimeout>): void {
  if (typeof handle === 'object' && handle !== null && 'unref' in handle) {
    ;(handle as { unref(): void }).unref()
    return
  }
  const deno = (globalThis as { Deno?: { unrefTimer?(id: number): void } }).Deno
  if (typeof handle === 'number') deno?.unrefTimer?.(handle)
}

/**
 * The `408` for a request whose body had not arrived when `traffic.timeout` (in seconds) ran out:
 * the client was too slow, so the connection is closed rather than read further.
 * @example
 * throw bodyTimedOut(60)
 */
export function bodyTimedOut(seconds: number): ResponseError {
  return new ResponseError(
    408,
    `the request body did not arrive within the ${seconds} s timeout`,
    undefined,
    { connection: 'close' }
  )
}

/**
 * The `504` for a request that outlasted `traffic.timeout` (in seconds).
 * @example
 * throw timedOut(60)
 */
export function timedOut(seconds: number): ResponseError {
  return new ResponseError(504, `no answer within the ${seconds} s timeout`)
}

function overloaded(limiter: Limiter): ResponseError {
  return new ResponseError(
    503,
    `the service is at capacity (${limiter.maxConcurrency} running, ${limiter.maxQueue} waiting); retry later`,
    undefined,
    { 'retry-after': String(RETRY_AFTER_SECONDS) }
  )
}
