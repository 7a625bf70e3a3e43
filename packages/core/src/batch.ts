// Adaptive batching for `batchable` APIs. Requests that reach one worker wait in a queue; the
// dispatcher learns how long a batch of n takes (a least-squares line over recent batches) and
// sends a batch when it is full, or when waiting for one more request would make the oldest one
// miss its `maxLatencyMs`. A request that could not be answered in time is refused at once instead
// of waiting. Timers are set only for the moment a decision is due: there is no polling loop.

/** Refused because the request could not be answered within `maxLatencyMs`: an HTTP 503. */
export class BatchShedError extends Error {
  override name = 'BatchShedError'
  /** Seconds after which a retry has a fair chance. */
  readonly retryAfter: number

  constructor(message: string, retryAfter: number) {
    super(message)
    this.retryAfter = retryAfter
  }
}

/** What a batcher reports after each batch, for metrics. */
export interface BatchReport {
  size: number
  /** Milliseconds the handler took. */
  durationMs: number
  /** Milliseconds each request of the batch waited in the queue before it was sent. */
  waitsMs: number[]
}

/** Settings of one batcher. */
export interface BatcherOptions<In, Out> {
  maxBatchSize: number
  maxLatencyMs: number
  /** Runs one batch; must return one output per input, in order. */
  run: (inputs: In[]) => Promise<Out[]>
  /** Called after every batch (successful or not). */
  onBatch?: (report: BatchReport) => void
  /** The clock, for tests. Default `performance.now`. */
  now?: () => number
}

interface Pending<In, Out> {
  input: In
  arrived: number
  deadline: number
  resolve: (value: Out) => void
  reject: (error: unknown) => void
  detach: () => void
}

/**
 * The cost of a batch of n as `intercept + slope * n`, refitted over the last batches. Until two
 * different sizes have been seen it assumes the cost of a batch does not depend on its size.
 */
export class CostModel {
  private readonly samples: Array<{ n: number; ms: number }> = []
  private intercept = 0
  private slope = 0

  constructor(private readonly window = 64) {}

  /**
   * Records that a batch of `n` took `ms` and refits the line.
   * @example
   * model.observe(8, 12.5)
   */
  observe(n: number, ms: number): void {
    this.samples.push({ n, ms })
    if (this.samples.length > this.window) this.samples.shift()
    this.fit()
  }

  /**
   * Predicted milliseconds for a batch of `n` (0 before any batch ran).
   * @example
   * const ms = model.estimate(16)
   */
  estimate(n: number): number {
    return Math.max(0, this.intercept + this.slope * n)
  }

  private fit(): void {
    const count = this.samples.length
    let sumN = 0
    let sumMs = 0
    for (const s of this.samples) {
      sumN += s.n
      sumMs += s.ms
    }
    const meanN = sumN / count
    const meanMs = sumMs / count
    let covariance = 0
    let variance = 0
    for (const s of this.samples) {
      covariance += (s.n - meanN) * (s.ms - meanMs)
      variance += (s.n - meanN) ** 2
    }
    // A negative slope is noise (bigger batches are never cheaper in total); keep the mean instead.
    this.slope = variance > 0 ? Math.max(0, covariance / variance) : 0
    this.intercept = meanMs - this.slope * meanN
  }
}

/**
 * Groups single requests into batches for a batchable handler.
 * @example
 * const batcher = new Batcher({ maxBatchSize: 16, maxLatencyMs: 100, run: (xs) => model.run(xs) })
 * const output = await batcher.submit(input, request.signal)
 */
export class Batcher<In, Out> {
  private readonly queue: Pending<In, Out>[] = []
  private readonly model = new CostModel()
  private readonly now: () => number
  private busyUntil: number | undefined
  private timer: ReturnType<typeof setTimeout> | undefined
  private timerAt = Number.POSITIVE_INFINITY
  /** Smoothed gap between arrivals in ms, to judge whether another request is worth waiting for. */
  private gap: number | undefined
  private lastArrival: number | undefined

  constructor(private readonly options: BatcherOptions<In, Out>) {
    this.now = options.now ?? (() => performance.now())
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length
  }

  /** The fitted cost of a batch of `n`, in ms. */
  estimate(n: number): number {
    return this.model.estimate(n)
  }

  /**
   * Queues `input` and resolves with its output once its batch ran. Rejects with `BatchShedError`
   * when it can't be answered within `maxLatencyMs`, with the handler's error when its batch
   * failed, and with the signal's reason when `signal` aborts before the batch is sent.
   * @example
   * const label = await batcher.submit({ text: 'hello' })
   */
  submit(input: In, signal?: AbortSignal): Promise<Out> {
    const arrived = this.now()
    this.noteArrival(arrived)
    const deadline = arrived + this.options.maxLatencyMs
    if (this.earliestAnswer(arrived) > deadline) {
      return Promise.reject(this.shed(this.earliestAnswer(arrived) - deadline))
    }
    if (signal?.aborted) return Promise.reject(signal.reason)
    return new Promise<Out>((resolve, reject) => {
      const entry: Pending<In, Out> = {
        input,
        arrived,
        deadline,
        resolve,
        reject,
        detach: () => {},
      }
      if (signal) {
        const onAbort = () => {
          const at = this.queue.indexOf(entry)
          if (at === -1) return
          this.queue.splice(at, 1)
          reject(signal.reason)
        }
        signal.addEventListener('abort', onAbort, { once: true })
        entry.detach = () => signal.removeEventListener('abort', onAbort)
      }
      this.queue.push(entry)
      this.decide()
    })
  }

  /** When a request arriving now could be answered at the soonest, given the batches before it. */
  private earliestAnswer(now: number): number {
    const { maxBatchSize } = this.options
    const ahead = this.queue.length
    const fullBatches = Math.floor(ahead / maxBatchSize)
    const start = Math.max(now, this.busyUntil ?? now)
    return (
      start +
      fullBatches * this.model.estimate(maxBatchSize) +
      this.model.estimate((ahead % maxBatchSize) + 1)
    )
  }

  private noteArrival(at: number): void {
    // Only gaps between requests that wait together count: they tell how fast a burst arrives.
    // A gap that ends an empty queue may be our own doing (a client waiting for its previous
    // answer), and counting it would teach the batcher to wait longer and longer for nothing.
    if (this.lastArrival !== undefined && this.queue.length > 0) {
      const gap = at - this.lastArrival
      this.gap = this.gap === undefined ? gap : this.gap * 0.8 + gap * 0.2
    }
    this.lastArrival = at
  }

  private shed(lateMs: number): BatchShedError {
    const retryAfter = Math.max(1, Math.ceil(lateMs / 1000))
    return new BatchShedError(
      `the batch queue can't answer within maxLatencyMs (${this.options.maxLatencyMs} ms)`,
      retryAfter
    )
  }

  /** Sends a batch now, or sets one timer for the moment waiting stops paying. */
  private decide(): void {
    if (this.busyUntil !== undefined || this.queue.length === 0) return
    const now = this.now()
    this.dropLate(now)
    if (this.queue.length === 0) return
    const { maxBatchSize } = this.options
    const size = Math.min(this.queue.length, maxBatchSize)
    if (size === maxBatchSize) {
      this.dispatch(size)
      return
    }
    // The latest moment a batch one larger than now could start and still meet the oldest deadline.
    const oldest = this.queue[0]!.deadline
    const latestStart = oldest - this.model.estimate(size + 1)
    // Wait for one more request only when it is expected soon: before that moment, and sooner
    // than the batch itself would take to run (later, it would rather queue for the next batch).
    // Under light load nothing is expected and the batch goes at once.
    const expectedNext =
      this.gap === undefined ? Number.POSITIVE_INFINITY : (this.lastArrival ?? now) + this.gap
    const worthWaiting =
      expectedNext > now &&
      expectedNext <= latestStart &&
      expectedNext - now <= this.model.estimate(size + 1)
    if (worthWaiting) this.wakeAt(expectedNext)
    else this.dispatch(size)
  }

  /** Refuses queued requests that can no longer be answered in time. */
  private dropLate(now: number): void {
    const cost = this.model.estimate(1)
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const entry = this.queue[i]!
      if (now + cost <= entry.deadline) continue
      this.queue.splice(i, 1)
      entry.detach()
      entry.reject(this.shed(now + cost - entry.deadline))
    }
  }

  private wakeAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timerAt = at
    this.timer = setTimeout(
      () => {
        this.timer = undefined
        this.timerAt = Number.POSITIVE_INFINITY
        this.decide()
      },
      Math.max(0, at - this.now())
    )
  }

  private dispatch(size: number): void {
    if (this.timer !== undefined) clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    const batch = this.queue.splice(0, size)
    const started = this.now()
    this.busyUntil = started + this.model.estimate(size)
    for (const entry of batch) entry.detach()
    const waitsMs = batch.map((entry) => started - entry.arrived)
    const finish = (outcome: { outputs: Out[] } | { error: unknown }) => {
      const durationMs = this.now() - started
      this.model.observe(size, durationMs)
      this.busyUntil = undefined
      this.options.onBatch?.({ size, durationMs, waitsMs })
      batch.forEach((entry, i) => {
        if ('error' in outcome) entry.reject(outcome.error)
        else entry.resolve(outcome.outputs[i] as Out)
      })
      this.decide()
    }
    let running: Promise<Out[]>
    try {
      running = Promise.resolve(this.options.run(batch.map((entry) => entry.input)))
    } catch (error) {
      running = Promise.reject(error)
    }
    running.then(
      (outputs) => {
        if (!Array.isArray(outputs) || outputs.length !== size) {
          const got = Array.isArray(outputs) ? `${outputs.length} outputs` : typeof outputs
          finish({
            error: new TypeError(
              `a batchable handler must return one output per input: got ${got} for ${size} inputs`
            ),
          })
        } else finish({ outputs })
      },
      (error) => finish({ error })
    )
  }
}
