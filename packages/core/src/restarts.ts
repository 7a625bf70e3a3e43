// When to restart a worker that exited, and when to give up: exponential backoff with jitter,
// reset once a worker has stayed up `stableSeconds`, and a crash loop after more than
// `maxRestarts` exits within `windowSeconds`. Kept per worker index, so that one bad worker
// doesn't use up the others' restarts.
import type { RestartPolicy } from './service.ts'

/** What to do about one exit. */
export interface RestartDecision {
  /** Wait this long before starting the worker again. */
  delayMs: number
  /** Exits within the window, this one included. */
  recentExits: number
  /** More than `maxRestarts` exits within the window. */
  crashLoop: boolean
}

/** Remembers one worker index's exits. */
export interface RestartTracker {
  /** Records an unexpected exit of a worker that had been up `uptimeMs`. */
  exited(uptimeMs: number): RestartDecision
}

/**
 * A tracker for one worker index under `policy` (already merged with the defaults).
 * @example
 * const tracker = restartTracker({ ...DEFAULTS.restart })
 * const { delayMs, crashLoop } = tracker.exited(1200)
 */
export function restartTracker(
  policy: Required<RestartPolicy>,
  clock: { now(): number; random(): number } = { now: Date.now, random: Math.random }
): RestartTracker {
  let exits: number[] = []
  let attempt = 0
  return {
    exited(uptimeMs) {
      const now = clock.now()
      if (uptimeMs >= policy.stableSeconds * 1000) attempt = 0
      exits = exits.filter((at) => now - at < policy.windowSeconds * 1000)
      exits.push(now)
      const ceiling = Math.min(policy.maxBackoffMs, policy.backoffMs * 2 ** attempt)
      attempt += 1
      // Half fixed, half random: workers that crashed together don't all come back together.
      const delayMs = Math.round(ceiling / 2 + (clock.random() * ceiling) / 2)
      return { delayMs, recentExits: exits.length, crashLoop: exits.length > policy.maxRestarts }
    },
  }
}
