// The access log: one line per request a worker answers, JSON under `--log-format json`, a short
// text line otherwise. Lines are gathered and written at most every 50 ms (one write per batch,
// not per request: under load, a write per request costs a system call each), and if the reader
// falls behind, lines are dropped and counted rather than making requests wait on a log.
// Edge-safe: no import of node:*, and off (`undefined`) unless a worker turned it on.
import { type Clock, systemClock } from '../clock.ts'
import { safeText } from './safe-text.ts'

/** What one line says. */
export interface AccessEntry {
  method: string
  /** The API's route, or the path for a request that matched none. */
  route: string
  status: number
  durationMs: number
  /** Bytes of the response body, `undefined` when not known up front (streams). */
  bytes: number | undefined
  requestId: string
  traceId: string | undefined
}

/** Where lines go, and how they look. */
export interface AccessLogOptions {
  format: 'text' | 'json'
  /** The worker's index, in every line. */
  worker: number
  service: string
  /** Writes a batch of lines; `false` means the reader is behind (drop until `drained`). */
  write(text: string): boolean
  /** Registers what to call once the reader caught up. */
  drained?(resume: () => void): void
  /** Marks lines for a supervisor that passes them through (JSON lines are not wrapped twice). */
  prefix?: string
  /** The time written in JSON lines (the wall clock by default). */
  now?: () => Date
  /** Times the batch flush (the system clock by default; tests move a manual one). */
  clock?: Clock
}

const FLUSH_MS = 50
const MAX_PENDING = 4096

/**
 * A worker's access log.
 * @example
 * const log = new AccessLog({ format: 'text', worker: 1, service: 'hello', write: (t) => process.stdout.write(t) })
 * log.add({ method: 'POST', route: '/greet', status: 200, durationMs: 1.2, bytes: 27, requestId: 'r1', traceId: undefined })
 */
export class AccessLog {
  #pending: string[] = []
  #timer: unknown
  #blocked = false
  #dropped = 0
  readonly #options: AccessLogOptions

  constructor(options: AccessLogOptions) {
    this.#options = options
  }

  /** Lines dropped so far because the reader was behind. */
  get dropped(): number {
    return this.#dropped
  }

  /** Logs one request. */
  add(entry: AccessEntry): void {
    if (this.#blocked || this.#pending.length >= MAX_PENDING) {
      this.#dropped++
      return
    }
    this.#pending.push(this.#line(entry))
    if (this.#timer === undefined) {
      const timer = (this.#options.clock ?? systemClock).setTimeout(() => this.flush(), FLUSH_MS)
      ;(timer as { unref?: () => void }).unref?.()
      this.#timer = timer
    }
  }

  /** Writes what is pending now (a draining worker calls this before it exits). */
  flush(): void {
    if (this.#timer !== undefined) (this.#options.clock ?? systemClock).clearTimeout(this.#timer)
    this.#timer = undefined
    if (this.#pending.length === 0) return
    const text = `${this.#pending.join('\n')}\n`
    this.#pending = []
    if (!this.#options.write(text) && this.#options.drained !== undefined) {
      this.#blocked = true
      this.#options.drained(() => {
        this.#blocked = false
        if (this.#dropped > 0) {
          const note = `access log: ${this.#dropped} lines dropped while the output was not read fast enough`
          this.#options.write(`${note}\n`)
          this.#dropped = 0
        }
      })
    }
  }

  #line(e: AccessEntry): string {
    const o = this.#options
    const ms = Math.round(e.durationMs * 100) / 100
    if (o.format === 'json') {
      return `${o.prefix ?? ''}${JSON.stringify({
        time: (o.now?.() ?? new Date()).toISOString(),
        level: 'info',
        service: o.service,
        worker: o.worker,
        msg: `${e.method} ${e.route} ${e.status}`,
        type: 'access',
        method: e.method,
        route: e.route,
        status: e.status,
        duration_ms: ms,
        bytes: e.bytes ?? null,
        request_id: e.requestId,
        trace_id: e.traceId ?? null,
      })}`
    }
    const bytes = e.bytes === undefined ? '-' : `${e.bytes}B`
    const trace = e.traceId === undefined ? '' : ` trace=${e.traceId}`
    // The route of a request that matched none is its decoded path, the client's to choose.
    return safeText(`${e.method} ${e.route} ${e.status} ${ms}ms ${bytes} id=${e.requestId}${trace}`)
  }
}

let active: AccessLog | undefined

/**
 * The worker's access log, or `undefined` when it is off.
 */
export function accessLog(): AccessLog | undefined {
  return active
}

/**
 * Turns the worker's access log on (or off, with `undefined`).
 */
export function setAccessLog(log: AccessLog | undefined): void {
  active = log
}
