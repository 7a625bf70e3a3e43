// When to restart a worker that exited, and when to give up. Every exit is restarted after an
// exponential backoff with jitter (reset once a worker stayed up `backoff.resetAfter`), but only
// unstable exits count towards giving up: more than `maxRestarts` of them within `window` is a
// crash loop. An exit is unstable when the worker never became ready, or ended itself (an exit
// code, or a fault such as SIGSEGV) within `minUptime` of being ready without having answered a
// request. So a worker that started fine and was then killed from outside (the OOM killer, a chaos
// tool: even one that had not been sent a request yet, as a Bun or Deno worker may not be, while
// the kernel hands new connections to the others) never takes the whole service down, while one
// that can't start, or crashes right after, stops it quickly with its error. Kept per worker index, so that one bad worker
// doesn't use up the others' allowance.
import type { ResolvedRestartPolicy } from '../service/types.ts'

/** How a worker process ended, as far as the restart policy cares. */
export interface ExitFacts {
  /** Milliseconds from its start to its exit. */
  uptimeMs: number
  /** Milliseconds from its `ready` to its exit; `undefined` when it never became ready. */
  readyForMs: number | undefined
  /** True once it answered at least one request. */
  served: boolean
  /** True when a signal from outside ended it (SIGKILL, SIGTERM, ...), not its own failure. */
  killed?: boolean
}

// Signals a process gets from someone else; SIGSEGV, SIGABRT, SIGBUS, SIGILL and SIGFPE are its
// own faults.
const KILLED_BY = new Set(['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGHUP', 'SIGQUIT'])

/**
 * True when `signal` ended a process from outside rather than by its own fault.
 * @example
 * killedFromOutside('SIGKILL') // true; 'SIGSEGV' and null are false
 */
export function killedFromOutside(signal: string | null): boolean {
  return signal !== null && KILLED_BY.has(signal)
}

/** What to do about one exit. */
export interface RestartDecision {
  /** Wait this long before starting the worker again. */
  delayMs: number
  /** Whether this exit counts towards the crash-loop breaker. */
  unstable: boolean
  /** Unstable exits within the window, this one included. */
  unstableExits: number
  /** More than `maxRestarts` unstable exits within the window. */
  crashLoop: boolean
}

/** Remembers one worker index's exits. */
export interface RestartTracker {
  /** Records an exit the supervisor did not ask for. */
  exited(facts: ExitFacts): RestartDecision
}

/**
 * True when an exit counts towards the crash-loop breaker (see the module comment).
 * @example
 * isUnstable({ uptimeMs: 300, readyForMs: undefined, served: false }, policy) // true
 */
export function isUnstable(facts: ExitFacts, policy: ResolvedRestartPolicy): boolean {
  if (facts.readyForMs === undefined) return true
  if (facts.killed === true) return false
  return !facts.served && facts.readyForMs < policy.minUptime * 1000
}

/**
 * A tracker for one worker index under `policy` (already merged with the defaults).
 * @example
 * const tracker = restartTracker(DEFAULTS.restart)
 * const { delayMs, crashLoop } = tracker.exited({ uptimeMs: 1200, readyForMs: 900, served: true })
 */
export function restartTracker(
  policy: ResolvedRestartPolicy,
  clock: { now(): number; random(): number } = { now: Date.now, random: Math.random }
): RestartTracker {
  let unstableAt: number[] = []
  let attempt = 0
  const { initial, max, resetAfter } = policy.backoff
  return {
    exited(facts) {
      const now = clock.now()
      if (facts.uptimeMs >= resetAfter * 1000) attempt = 0
      const unstable = isUnstable(facts, policy)
      unstableAt = unstableAt.filter((at) => now - at < policy.window * 1000)
      if (unstable) unstableAt.push(now)
      const ceiling = Math.min(max, initial * 2 ** attempt) * 1000
      attempt += 1
      // Half fixed, half random: workers that crashed together don't all come back together.
      const delayMs = Math.round(ceiling / 2 + (clock.random() * ceiling) / 2)
      return {
        delayMs,
        unstable,
        unstableExits: unstableAt.length,
        crashLoop: unstable && unstableAt.length > policy.maxRestarts,
      }
    },
  }
}

/**
 * How long to wait before restarting a worker: the decision's backoff, except that with no other
 * worker serving, one that had started fine comes back at once (waiting would only lengthen the
 * outage). An unstable one still waits, or a crash loop would spin.
 */
export function restartDelay(decision: RestartDecision, othersServing: boolean): number {
  return decision.unstable || othersServing ? decision.delayMs : 0
}

/** What ends the supervisor after worker `index`'s crash loop: the policy, and its last error. */
export function crashLoopError(
  index: number,
  decision: RestartDecision,
  policy: ResolvedRestartPolicy,
  error: Error
): Error {
  const { maxRestarts, window, minUptime } = policy
  const summary = error.message.split('\n').slice(-10).join('\n')
  return new Error(
    `worker ${index} exited ${decision.unstableExits} times within ${window} s before it was ready or within restart.minUptime (${minUptime} s) of it (restart.maxRestarts is ${maxRestarts}); its last error: ${summary}`,
    { cause: error }
  )
}
