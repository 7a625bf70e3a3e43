// Time and timers behind one interface, so that code whose decisions depend on time (the batcher,
// the restart policy) can be tested with a clock the test moves by hand instead of real sleeps.

/** The current time in ms and one-shot timers. */
export interface Clock {
  now(): number
  setTimeout(callback: () => void, ms: number): unknown
  clearTimeout(handle: unknown): void
}

/**
 * The real clock: `performance.now()` and the runtime's timers.
 * @example
 * const started = systemClock.now()
 */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (callback, ms) => setTimeout(callback, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
}
