// Calls to a service bento serves on this machine are spread over its ready workers per request,
// to the one with the fewest calls outstanding from this process (ties in turn), not per
// connection: two keep-alive clients of the entry still keep every worker of the dependency busy.
// A call whose connection failed before any response (its worker died, or is draining) is sent
// once more, to another worker (or to the same one a second later, when it is the only one);
// while no worker is ready, calls wait for one, as long as their signal lets them. Edge-safe: the
// transport is passed in.
import type { Answer, CallRequest } from './answer.ts'
import type { Target } from './call.ts'

/** Sends a call to one endpoint (`frames:/path`, `unix:/path` or `http://host:port`). */
export type EndpointSend = (endpoint: string, call: CallRequest) => Promise<Answer>

interface Endpoint {
  address: string
  outstanding: number
  /** When a connection to it last failed (`performance.now()`); it is skipped for a moment. */
  failedAt: number
}

// How long an endpoint whose connection failed is left out, unless the supervisor says it's back.
const FAILED_FOR_MS = 1000

/**
 * The workers of one dependency as this process sees them.
 * @example
 * const pool = new EndpointPool('embedder', (endpoint, call) => runtime.fetchUnix(endpoint.slice(5), call))
 * pool.update(['unix:/tmp/bento-x/embedder/1.1.sock'])
 */
export class EndpointPool implements Target {
  #endpoints: Endpoint[] = []
  #next = 0
  #waiters = new Set<() => void>()

  constructor(
    readonly service: string,
    private readonly transport: EndpointSend
  ) {}

  /** The ready workers now (from the supervisor); calls in flight to the others finish. */
  update(addresses: readonly string[]): void {
    const known = new Map(this.#endpoints.map((e) => [e.address, e]))
    this.#endpoints = addresses.map(
      (address) => known.get(address) ?? { address, outstanding: 0, failedAt: -Infinity }
    )
    // Taken out first: a waiter that finds no worker yet adds itself back for the next update.
    const waiters = [...this.#waiters]
    this.#waiters.clear()
    for (const wake of waiters) wake()
  }

  /** Resolves once at least one worker is ready (at once if one is). */
  reachable(): Promise<void> {
    if (this.#endpoints.length > 0) return Promise.resolve()
    return new Promise((resolve) => {
      const check = () => {
        if (this.#endpoints.length > 0) resolve()
        else this.#waiters.add(check)
      }
      this.#waiters.add(check)
    })
  }

  /** The ready workers' addresses, with the calls outstanding to each. */
  snapshot(): { address: string; outstanding: number }[] {
    return this.#endpoints.map(({ address, outstanding }) => ({ address, outstanding }))
  }

  async send(call: CallRequest): Promise<Answer> {
    const { signal } = call
    for (let attempt = 0; ; attempt++) {
      const endpoint = this.#pick() ?? (await this.#wait(signal))
      endpoint.outstanding++
      let answer: Answer
      try {
        answer = await this.transport(endpoint.address, call)
      } catch (error) {
        endpoint.outstanding--
        if (signal.aborted || attempt === 1) throw error
        endpoint.failedAt = performance.now()
        continue
      }
      // A stream keeps its worker busy until it ends or is cancelled.
      if (answer.streamed) void answer.settled.then(() => endpoint.outstanding--)
      else endpoint.outstanding--
      return answer
    }
  }

  // The ready worker with the fewest calls outstanding, in turn among equals; `undefined` when
  // there is none but ones that failed a moment ago.
  #pick(): Endpoint | undefined {
    const all = this.#endpoints
    const now = performance.now()
    let best: Endpoint | undefined
    for (let i = 0; i < all.length; i++) {
      const endpoint = all[(this.#next + i) % all.length]!
      if (now - endpoint.failedAt < FAILED_FOR_MS) continue
      if (best === undefined || endpoint.outstanding < best.outstanding) best = endpoint
    }
    if (best !== undefined) this.#next = (all.indexOf(best) + 1) % all.length
    return best
  }

  // Waits for a worker to be ready (or back), as long as `signal` allows. One whose connection
  // failed is tried once more after its moment out: a socket file that vanished under a live
  // worker fails the call then, not when the caller's time is up.
  #wait(signal: AbortSignal): Promise<Endpoint> {
    return new Promise((resolve, reject) => {
      if (signal.aborted) return reject(signal.reason)
      let timer: ReturnType<typeof setTimeout> | undefined
      const check = () => {
        const found = this.#pick()
        if (found === undefined) {
          this.#waiters.add(check)
          // An endpoint that failed a moment ago may be picked again once the moment is over.
          clearTimeout(timer)
          timer = setTimeout(check, FAILED_FOR_MS)
          return
        }
        signal.removeEventListener('abort', abort)
        this.#waiters.delete(check)
        clearTimeout(timer)
        resolve(found)
      }
      const abort = () => {
        this.#waiters.delete(check)
        clearTimeout(timer)
        reject(signal.reason)
      }
      signal.addEventListener('abort', abort, { once: true })
      check()
    })
  }
}
