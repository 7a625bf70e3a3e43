import { describe, expect, it } from 'vitest'
import { DEFAULTS } from '../service/defaults.ts'
import type { ResolvedRestartPolicy } from '../service/types.ts'
import {
  crashLoopError,
  type ExitFacts,
  isUnstable,
  killedFromOutside,
  restartDelay,
  restartTracker,
} from './restarts.ts'

type Overrides = Partial<Omit<ResolvedRestartPolicy, 'backoff'>> & {
  backoff?: Partial<ResolvedRestartPolicy['backoff']>
}

function tracker(overrides: Overrides = {}, random = 1) {
  let now = 0
  const clock = { now: () => now, random: () => random }
  const policy: ResolvedRestartPolicy = {
    ...DEFAULTS.restart,
    ...overrides,
    backoff: { ...DEFAULTS.restart.backoff, ...overrides.backoff },
  }
  const t = restartTracker(policy, clock)
  return {
    exit: (facts: Partial<ExitFacts> = {}) => {
      const full: ExitFacts = { uptimeMs: 0, readyForMs: undefined, served: false, ...facts }
      now += full.uptimeMs
      return t.exited(full)
    },
    wait: (ms: number) => {
      now += ms
    },
  }
}

const crashedAtStart = { uptimeMs: 200, readyForMs: undefined, served: false }
const servedThenKilled = { uptimeMs: 5_000, readyForMs: 4_800, served: true }

describe('isUnstable', () => {
  const policy = DEFAULTS.restart
  it('calls an exit before ready unstable', () => {
    expect(isUnstable(crashedAtStart, policy)).toBe(true)
  })
  it('calls an exit within minUptime of ready, with no request answered, unstable', () => {
    expect(isUnstable({ uptimeMs: 900, readyForMs: 500, served: false }, policy)).toBe(true)
  })
  it('calls a ready worker killed from outside stable, served or not; its own fault is not', () => {
    const early = { uptimeMs: 900, readyForMs: 500, served: false }
    expect(isUnstable({ ...early, killed: true }, policy)).toBe(false)
    expect(isUnstable({ ...early, killed: false }, policy)).toBe(true)
    // Killed before it was ready: it never showed it can start.
    expect(isUnstable({ ...crashedAtStart, killed: true }, policy)).toBe(true)
    expect(['SIGKILL', 'SIGTERM'].map(killedFromOutside)).toEqual([true, true])
    expect(['SIGSEGV', 'SIGABRT', null].map(killedFromOutside)).toEqual([false, false, false])
  })
  it('calls a worker that answered a request, or outlived minUptime, stable', () => {
    expect(isUnstable({ uptimeMs: 900, readyForMs: 500, served: true }, policy)).toBe(false)
    expect(isUnstable({ uptimeMs: 1500, readyForMs: 1000, served: false }, policy)).toBe(false)
  })
})

describe('restartTracker', () => {
  it('doubles the backoff up to backoff.max', () => {
    const t = tracker({ backoff: { initial: 0.1, max: 0.5 }, maxRestarts: 100 })
    expect([1, 2, 3, 4, 5].map(() => t.exit().delayMs)).toEqual([100, 200, 400, 500, 500])
  })

  it('jitters between half and all of the backoff', () => {
    expect(tracker({ backoff: { initial: 0.1 } }, 0).exit().delayMs).toBe(50)
    expect(tracker({ backoff: { initial: 0.1 } }, 0.5).exit().delayMs).toBe(75)
  })

  it('starts the backoff over after a worker stayed up backoff.resetAfter', () => {
    const t = tracker({ backoff: { initial: 0.1, resetAfter: 10 }, maxRestarts: 100 })
    t.exit()
    t.exit()
    expect(t.exit({ uptimeMs: 9_999 }).delayMs).toBe(400)
    expect(t.exit({ uptimeMs: 10_000 }).delayMs).toBe(100)
  })

  it('calls more than maxRestarts unstable exits within the window a crash loop', () => {
    const t = tracker({ maxRestarts: 2, window: 60 })
    expect(t.exit(crashedAtStart).crashLoop).toBe(false)
    expect(t.exit(crashedAtStart).crashLoop).toBe(false)
    expect(t.exit(crashedAtStart)).toMatchObject({ crashLoop: true, unstableExits: 3 })
  })

  it('never calls workers that served and were then killed a crash loop, however many', () => {
    const t = tracker({ maxRestarts: 2, backoff: { max: 10 } })
    const decisions = Array.from({ length: 50 }, () => t.exit(servedThenKilled))
    expect(decisions.some((d) => d.crashLoop)).toBe(false)
    expect(decisions.every((d) => !d.unstable)).toBe(true)
    // Still backed off, capped.
    expect(decisions.at(-1)!.delayMs).toBe(10_000)
  })

  it('does not let stable exits push unstable ones over the limit', () => {
    const t = tracker({ maxRestarts: 1 })
    t.exit(servedThenKilled)
    t.exit(servedThenKilled)
    expect(t.exit(crashedAtStart).crashLoop).toBe(false)
    expect(t.exit(crashedAtStart).crashLoop).toBe(true)
  })

  it('forgets unstable exits older than the window', () => {
    const t = tracker({ maxRestarts: 1, window: 60 })
    t.exit(crashedAtStart)
    t.wait(60_000)
    expect(t.exit(crashedAtStart)).toMatchObject({ crashLoop: false, unstableExits: 1 })
  })

  it('with maxRestarts 0, the first unstable exit is a crash loop', () => {
    expect(tracker({ maxRestarts: 0 }).exit(crashedAtStart).crashLoop).toBe(true)
  })
})

describe('restartDelay', () => {
  const stable = { delayMs: 400, unstable: false, unstableExits: 0, crashLoop: false }
  const unstable = { ...stable, unstable: true, unstableExits: 1 }

  it('waits out the backoff while another worker serves', () => {
    expect(restartDelay(stable, true)).toBe(400)
    expect(restartDelay(unstable, true)).toBe(400)
  })

  it('restarts a worker that had started fine at once when no other serves, an unstable one not', () => {
    expect(restartDelay(stable, false)).toBe(0)
    expect(restartDelay(unstable, false)).toBe(400)
  })
})

describe('crashLoopError', () => {
  it('names the worker, the policy and the last lines of its error, which it keeps as the cause', () => {
    const cause = new Error(`${'noise\n'.repeat(20)}Error: model file missing`)
    const decision = { delayMs: 0, unstable: true, unstableExits: 6, crashLoop: true }
    const error = crashLoopError(2, decision, DEFAULTS.restart, cause)
    expect(error.message).toMatch(
      /^worker 2 exited 6 times within 60 s .*restart\.minUptime \(1 s\).*restart\.maxRestarts is 5\); its last error: /
    )
    expect(error.message).toContain('Error: model file missing')
    expect(error.message.split('\n')).toHaveLength(10)
    expect(error.cause).toBe(cause)
  })
})
