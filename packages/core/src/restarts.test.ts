import { describe, expect, it } from 'vitest'
import { restartTracker } from './restarts.ts'
import { DEFAULTS, type RestartPolicy } from './service.ts'

function tracker(overrides: RestartPolicy = {}, random = 1) {
  let now = 0
  const clock = { now: () => now, random: () => random }
  const t = restartTracker({ ...DEFAULTS.restart, ...overrides }, clock)
  return {
    exit: (uptimeMs = 0) => {
      now += uptimeMs
      return t.exited(uptimeMs)
    },
    wait: (ms: number) => {
      now += ms
    },
  }
}

describe('restartTracker', () => {
  it('doubles the backoff up to maxBackoffMs', () => {
    const t = tracker({ backoffMs: 100, maxBackoffMs: 500, maxRestarts: 100 })
    expect([1, 2, 3, 4, 5].map(() => t.exit().delayMs)).toEqual([100, 200, 400, 500, 500])
  })

  it('jitters between half and all of the backoff', () => {
    expect(tracker({ backoffMs: 100 }, 0).exit().delayMs).toBe(50)
    expect(tracker({ backoffMs: 100 }, 0.5).exit().delayMs).toBe(75)
  })

  it('starts the backoff over after a stable uptime', () => {
    const t = tracker({ backoffMs: 100, stableSeconds: 10, maxRestarts: 100 })
    t.exit()
    t.exit()
    expect(t.exit(9_999).delayMs).toBe(400)
    expect(t.exit(10_000).delayMs).toBe(100)
  })

  it('calls more than maxRestarts exits within the window a crash loop', () => {
    const t = tracker({ maxRestarts: 2, windowSeconds: 60 })
    expect(t.exit().crashLoop).toBe(false)
    expect(t.exit().crashLoop).toBe(false)
    expect(t.exit()).toMatchObject({ crashLoop: true, recentExits: 3 })
  })

  it('forgets exits older than the window', () => {
    const t = tracker({ maxRestarts: 1, windowSeconds: 60 })
    t.exit()
    t.wait(60_000)
    expect(t.exit()).toMatchObject({ crashLoop: false, recentExits: 1 })
  })

  it('with maxRestarts 0, the first exit is a crash loop', () => {
    expect(tracker({ maxRestarts: 0 }).exit().crashLoop).toBe(true)
  })
})
