// What a batch of n costs, learned from the batches a worker has run. Two questions use it, and
// they want different answers:
// - when to send a batch (wait for one more request, or go now) wants the typical cost;
// - whether to refuse a request at once wants a cost the handler is sure to need at least: a
//   refusal on a guess is a request lost that could have been served.
// So the model keeps a robust line (Theil–Sen: the median of pairwise slopes, which a few wild
// batches can't drag) for the first, an optimistic version of it for the second, and says whether
// it has seen enough to be trusted at all. The first batches after start-up are left out (a model
// runtime warms up, allocates, compiles kernels), and samples age out, so a handler whose speed
// changes is followed.
import { DEFAULTS } from '../service/defaults.ts'

/** How the model learns. Every field has a default (`DEFAULTS.costModel`). */
export interface CostModelOptions {
  /** Keep at most this many recent batches. */
  window?: number
  /** Forget batches older than this, in ms. */
  maxAgeMs?: number
  /** Leave out this many batches after start-up. */
  warmup?: number
  /** Batches (after warm-up) needed before the model is trusted to refuse requests. */
  minSamples?: number
}

interface Sample {
  n: number
  ms: number
  at: number
}

interface Line {
  intercept: number
  slope: number
}

/**
 * The cost of a batch of n as a line `intercept + slope * n`, fitted robustly over recent batches.
 * @example
 * const model = new CostModel()
 * model.observe(8, 12.5, performance.now())
 * if (model.confident) console.log(model.lowerBound(16))
 */
export class CostModel {
  private readonly options: Required<CostModelOptions>
  private readonly samples: Sample[] = []
  private seen = 0
  private typical: Line = { intercept: 0, slope: 0 }
  private optimistic: Line = { intercept: 0, slope: 0 }

  constructor(options: CostModelOptions = {}) {
    this.options = { ...DEFAULTS.costModel, ...options }
  }

  /** Batches the fit rests on (after warm-up, within the window and age). */
  get evidence(): number {
    return this.samples.length
  }

  /** True once enough batches were seen for a refusal to rest on the model. */
  get confident(): boolean {
    return this.samples.length >= this.options.minSamples
  }

  /**
   * Records that a batch of `n` took `ms`, finishing at `at` (the clock's ms), and refits.
   */
  observe(n: number, ms: number, at: number): void {
    this.seen += 1
    if (this.seen <= this.options.warmup) return
    this.samples.push({ n, ms, at })
    if (this.samples.length > this.options.window) this.samples.shift()
    this.forget(at)
    this.fit()
  }

  /**
   * Drops samples older than `maxAgeMs` at time `now`.
   */
  forget(now: number): void {
    const oldest = now - this.options.maxAgeMs
    let drop = 0
    while (drop < this.samples.length && this.samples[drop]!.at < oldest) drop++
    if (drop === 0) return
    this.samples.splice(0, drop)
    this.fit()
  }

  /**
   * The typical cost of a batch of `n` in ms (0 before any batch was fitted).
   */
  estimate(n: number): number {
    return Math.max(0, this.typical.intercept + this.typical.slope * n)
  }

  /**
   * A cost a batch of `n` is all but sure to need (the fit's lower quartile): what a refusal rests
   * on, so that a request is refused only when even a good run would answer it too late.
   * @example
   * if (model.confident && now + model.lowerBound(1) > deadline) refuse()
   */
  lowerBound(n: number): number {
    return Math.max(0, this.optimistic.intercept + this.optimistic.slope * n)
  }

  private fit(): void {
    const samples = this.samples
    if (samples.length === 0) {
      this.typical = { intercept: 0, slope: 0 }
      this.optimistic = { intercept: 0, slope: 0 }
      return
    }
    const slope = trustedSlope(samples)
    const residuals = samples.map((s) => s.ms - slope * s.n).sort((a, b) => a - b)
    this.typical = { intercept: quantile(residuals, 0.5), slope }
    this.optimistic = { intercept: quantile(residuals, 0.25), slope }
  }
}

// The median of the slopes between every two batches of different sizes, but only when at least
// two sizes were each seen twice: one slow batch of a new size (its first run allocates for the
// new shape) would otherwise set the slope alone. Without that evidence the cost is taken as not
// depending on the size, which only errs towards serving. A negative slope is noise (a bigger
// batch is never cheaper in total): 0.
function trustedSlope(samples: readonly Sample[]): number {
  const sizes = new Map<number, number>()
  for (const s of samples) sizes.set(s.n, (sizes.get(s.n) ?? 0) + 1)
  if ([...sizes.values()].filter((count) => count >= 2).length < 2) return 0
  const slopes: number[] = []
  for (let i = 0; i < samples.length; i++) {
    for (let j = i + 1; j < samples.length; j++) {
      const a = samples[i]!
      const b = samples[j]!
      if (a.n !== b.n) slopes.push((b.ms - a.ms) / (b.n - a.n))
    }
  }
  slopes.sort((a, b) => a - b)
  return Math.max(0, quantile(slopes, 0.5))
}

// Linear interpolation between the closest ranks of a sorted list.
function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return 0
  const at = (sorted.length - 1) * q
  const low = Math.floor(at)
  const high = Math.ceil(at)
  return sorted[low]! + (sorted[high]! - sorted[low]!) * (at - low)
}
