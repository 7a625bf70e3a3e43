// Histograms with fixed bounds, as plain JSON once snapshotted: what a worker counts (request
// latency, dependency calls) crosses the supervisor's IPC this way and is summed per service.

/** Upper bounds of the latency histogram, in seconds. */
export const LATENCY_BUCKETS = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120,
] as const

/** A histogram as JSON: the count in each bucket (not cumulative; the last is `+Inf`), sum, count. */
export interface HistogramData {
  counts: number[]
  sum: number
  count: number
}

/**
 * A histogram with fixed upper bounds.
 * @example
 * const h = new Histogram([0.1, 1]); h.observe(0.5); h.data() // { counts: [0, 1, 0], sum: 0.5, count: 1 }
 */
export class Histogram {
  readonly counts: number[]
  sum = 0
  count = 0

  constructor(readonly bounds: readonly number[]) {
    this.counts = new Array<number>(bounds.length + 1).fill(0)
  }

  /**
   * Records one value.
   */
  observe(value: number): void {
    const { bounds } = this
    let i = 0
    while (i < bounds.length && value > bounds[i]!) i++
    this.counts[i]!++
    this.sum += value
    this.count++
  }

  /**
   * A JSON copy.
   */
  data(): HistogramData {
    return { counts: [...this.counts], sum: this.sum, count: this.count }
  }
}
