// Adaptive batching for `batchable` APIs. Requests that reach one worker wait in a queue; the
// dispatcher learns what a batch of n costs (cost-model.ts) and sends a batch when it is full, or
// when waiting for one more request would make the oldest one miss its `maxLatencyMs`. A request
// that can't be answered in time is refused at once instead of waiting, but only on evidence: until
// the cost model has seen enough batches, and then only when even an optimistic estimate misses the
// deadline. A request once admitted is always served, late if a batch ran slower than expected:
// refusing it after it waited would cost the client the wait and the answer. Timers are set only for the moment a decision is due: there is no polling loop.
import { type Clock, systemClock } from '../clock.ts'
import { CostModel, type CostModelOptions } from './cost-model.ts'

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
  /** Time and timers; tests pass a manual clock. Default: `performance.now` and `setTimeout`. */
  clock?: Clock
  /** How the cost model learns (warm-up, window, evidence); see `DEFAULTS.costModel`. */
  costModel?: CostModelOptions
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
 * Groups single requests into batches for a batchable handler.
 * @example
 * const batcher = new Batcher({ maxBatchSize: 16, maxLatencyMs: 100, run: (xs) => model.run(xs) })
 * const output = await batcher.submit(input, request.signal)
 */
export class Batcher<In, Out> {
  private readonly queue: Pending<In, Out>[] = []
  private readonly model: CostModel
  private readonly clock: Clock
  private inFlight: { size: number; started: number } | undefined
  private timer: unknown
  private timerAt = Number.POSITIVE_INFINITY
  /** Smoothed gap between arrivals in ms, to judge whether another request is worth waiting for. */
  private gap: number | undefined
  private lastArrival: number | undefined

  constructor(private readonly options: BatcherOptions<In, Out>) {
    this.clock = options.clock ?? systemClock
    this.model = new CostModel(options.costModel)
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length
  }

  /** The typical cost of a batch of `n`, in ms, as learned so far. */
  estimate(n: number): number {
    return this.model.estimate(n)
  }

  /** True once the cost model has seen enough batches to refuse requests on its estimate. */
  get confident(): boolean {
    return this.model.confident
  }

  /**
   * Queues `input` and resolves with its output once its batch ran. Rejects with `BatchShedError`
   * when it can't be answered within `maxLatencyMs`, with the handler's error when its batch
   * failed, and with the signal's reason when `signal` aborts before the batch is sent.
   * @example
   * const label = await batcher.submit({ text: 'hello' })
   */
  submit(input: In, signal?: AbortSignal): Promise<Out> {
    const arrived = this.clock.now()
    this.noteArrival(arrived)
    const deadline = arrived + this.options.maxLatencyMs
    const earliest = this.earliestAnswer(arrived)
    if (earliest > deadline) return Promise.reject(this.shed(earliest - deadline))
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

  /**
   * The soonest a request arriving now could be answered, counting the batch in flight and the
   * full batches queued before it at their optimistic cost; `-Infinity` while the cost model has
   * too little evidence to refuse anything.
   */
  private earliestAnswer(now: number): number {
    this.model.forget(now)
    if (!this.model.confident) return Number.NEGATIVE_INFINITY
    const { maxBatchSize } = this.options
    const model = this.model
    const ahead = this.queue.length
    const fullBatches = Math.floor(ahead / maxBatchSize)
    const running = this.inFlight
    const inFlightLeft = running
      ? Math.max(0, running.started + model.lowerBound(running.size) - now)
      : 0
    return (
      now +
      inFlightLeft +
      fullBatches * model.lowerBound(maxBatchSize) +
      model.lowerBound((ahead % maxBatchSize) + 1)
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
    if (this.inFlight !== undefined || this.queue.length === 0) return
    const now = this.clock.now()
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

  private wakeAt(at: number): void {
    if (this.timer !== undefined && this.timerAt <= at) return
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timerAt = at
    this.timer = this.clock.setTimeout(
      () => {
        this.timer = undefined
        this.timerAt = Number.POSITIVE_INFINITY
        this.decide()
      },
      Math.max(0, at - this.clock.now())
    )
  }

  private dispatch(size: number): void {
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer)
    this.timer = undefined
    this.timerAt = Number.POSITIVE_INFINITY
    const batch = this.queue.splice(0, size)
    const started = this.clock.now()
    this.inFlight = { size, started }
    for (const entry of batch) entry.detach()
    const waitsMs = batch.map((entry) => started - entry.arrived)
    const finish = (outcome: { outputs: Out[] } | { error: unknown }) => {
      const ended = this.clock.now()
      const durationMs = ended - started
      this.model.observe(size, durationMs, ended)
      this.inFlight = undefined
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
