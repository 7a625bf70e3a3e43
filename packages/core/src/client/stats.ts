// What a worker counts about its calls to other services, for `/metrics`: calls by outcome (the
// callee's status, `error` when nothing answered, `timeout`) and their latency, per calling
// service, dependency and API. Plain JSON once snapshotted, summed over workers like the rest.
import { Histogram, type HistogramData, LATENCY_BUCKETS } from '../histogram.ts'

/** One (caller, dependency, API)'s calls in one worker, or summed over workers. */
export interface DependencySnapshot {
  /** The calling service. */
  service: string
  /** The service called. */
  dependency: string
  api: string
  /** Calls by outcome: the callee's HTTP status, `error` or `timeout`. */
  calls: Record<string, number>
  latency: HistogramData
}

interface Entry {
  service: string
  dependency: string
  api: string
  calls: Map<string, number>
  latency: Histogram
}

/**
 * This worker's dependency calls.
 * @example
 * stats.record('search', 'embedder', 'embed', 200, 0.004)
 */
export class DependencyStats {
  readonly #entries = new Map<string, Entry>()

  /** Counts one call's outcome and latency. */
  record(
    service: string,
    dependency: string,
    api: string,
    outcome: number | string,
    seconds: number
  ) {
    const key = `${service}\0${dependency}\0${api}`
    let entry = this.#entries.get(key)
    if (entry === undefined) {
      entry = {
        service,
        dependency,
        api,
        calls: new Map(),
        latency: new Histogram(LATENCY_BUCKETS),
      }
      this.#entries.set(key, entry)
    }
    const label = String(outcome)
    entry.calls.set(label, (entry.calls.get(label) ?? 0) + 1)
    entry.latency.observe(seconds)
  }

  /** A JSON copy, one row per (caller, dependency, API). */
  snapshot(): DependencySnapshot[] {
    return [...this.#entries.values()].map((e) => ({
      service: e.service,
      dependency: e.dependency,
      api: e.api,
      calls: Object.fromEntries(e.calls),
      latency: e.latency.data(),
    }))
  }
}
