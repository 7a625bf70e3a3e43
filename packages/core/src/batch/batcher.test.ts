// Every test runs on a manual clock: batches take exactly the time a test gives them, and the
// dispatcher's timers fire when the test moves the clock, so no outcome depends on the machine.
import { describe, expect, it } from 'vitest'
import { after, ManualClock, settle } from '../../test/manual-clock.ts'
import { Batcher, type BatcherOptions, BatchShedError } from './batcher.ts'

/**
 * A handler that doubles its inputs, taking `cost(size, call)` ms of the clock's time, and
 * records every batch it was given.
 */
function doubler(clock: ManualClock, cost: (size: number, call: number) => number) {
  const batches: number[][] = []
  const run = (inputs: number[]) => {
    batches.push([...inputs])
    const ms = cost(inputs.length, batches.length - 1)
    return after(
      clock,
      ms,
      inputs.map((x) => x * 2)
    )
  }
  return { batches, run }
}

function batcher(
  clock: ManualClock,
  cost: (size: number, call: number) => number,
  options: Partial<BatcherOptions<number, number>> = {}
) {
  const handler = doubler(clock, cost)
  const b = new Batcher<number, number>({
    maxBatchSize: 32,
    maxLatencyMs: 100,
    run: handler.run,
    clock,
    ...options,
  })
  return { b, batches: handler.batches }
}

/** Settles `promises` into counts of answers and refusals, and the refusals themselves. */
async function outcome(promises: Promise<number>[]) {
  const results = await Promise.allSettled(promises)
  const shed = results
    .filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    .map((r) => r.reason as BatchShedError)
  return { answered: results.length - shed.length, shed }
}

/** Warms a batcher up: `n` lone requests, each answered before the next. */
async function warm(clock: ManualClock, b: Batcher<number, number>, n: number) {
  for (let i = 0; i < n; i++) {
    const answer = b.submit(i)
    await clock.advance(1000)
    await answer
  }
}

describe('Batcher', () => {
  it('groups requests that arrive while a batch runs and hands each caller its own output', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 30, { maxLatencyMs: 1000 })
    const first = b.submit(100)
    await clock.advance(5)
    const rest = Array.from({ length: 10 }, (_, i) => b.submit(i))
    await clock.advance(100)
    expect(await first).toBe(200)
    expect(await Promise.all(rest)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    expect(batches).toEqual([[100], [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]])
  })

  it('never sends more than maxBatchSize at once', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 20, { maxBatchSize: 4, maxLatencyMs: 5000 })
    const first = b.submit(-1)
    await clock.advance(2)
    const outputs = Array.from({ length: 10 }, (_, i) => b.submit(i))
    await clock.advance(200)
    expect(await Promise.all(outputs)).toEqual(Array.from({ length: 10 }, (_, i) => i * 2))
    expect(await first).toBe(-2)
    expect(batches.map((batch) => batch.length)).toEqual([1, 4, 4, 2])
  })

  it('sends a lone request at once when no other is expected', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 1, { maxLatencyMs: 600_000 })
    const answer = b.submit(21)
    // Sent within submit itself: no timer stands between the request and the handler.
    expect(batches).toEqual([[21]])
    await clock.advance(1)
    expect(await answer).toBe(42)
  })

  it('never holds back a client that waits for each answer before it sends the next', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 2, { maxLatencyMs: 1000 })
    for (let i = 0; i < 20; i++) {
      const answer = b.submit(i)
      expect(batches).toHaveLength(i + 1)
      await clock.advance(2)
      expect(await answer).toBe(i * 2)
      await clock.advance(1)
    }
  })

  it('waits for one more request when a burst is arriving, within the deadline', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 10, { maxLatencyMs: 1000 })
    await warm(clock, b, 6)
    const busy = b.submit(100)
    // A burst arriving 1 ms apart behind a batch in flight teaches the gap.
    const burst: Promise<number>[] = []
    for (let i = 0; i < 5; i++) {
      burst.push(b.submit(i))
      await clock.advance(1)
    }
    await clock.advance(100)
    await Promise.all([busy, ...burst])
    expect(batches.slice(6)).toEqual([[100], [0, 1, 2, 3, 4]])
  })

  it('rejects every caller of a batch whose handler throws, and keeps serving later batches', async () => {
    const clock = new ManualClock()
    let calls = 0
    const b = new Batcher<number, number>({
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      clock,
      run: async (inputs) => {
        calls++
        await after(clock, 20, null)
        if (inputs.includes(13)) throw new Error('unlucky batch')
        return inputs
      },
    })
    const first = b.submit(1)
    await clock.advance(2)
    const doomed = Promise.allSettled([b.submit(12), b.submit(13), b.submit(14)])
    await clock.advance(100)
    expect(await first).toBe(1)
    const results = await doomed
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    for (const r of results) {
      expect((r as PromiseRejectedResult).reason.message).toBe('unlucky batch')
    }
    const later = b.submit(7)
    await clock.advance(20)
    expect(await later).toBe(7)
    expect(calls).toBe(3)
  })

  it('fails the whole batch when the handler returns the wrong number of outputs', async () => {
    const clock = new ManualClock()
    const b = new Batcher<number, number>({
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      clock,
      run: async (inputs) => inputs.slice(1),
    })
    await expect(b.submit(1)).rejects.toThrow(/one output per input: got 0 outputs for 1 inputs/)
  })

  it('drops a queued request whose signal aborts, and never runs it', async () => {
    const clock = new ManualClock()
    const { b, batches } = batcher(clock, () => 30, { maxBatchSize: 8, maxLatencyMs: 1000 })
    const first = b.submit(1)
    await clock.advance(2)
    const controller = new AbortController()
    const aborted = b.submit(99, controller.signal)
    const kept = b.submit(2)
    controller.abort(new Error('client went away'))
    await expect(aborted).rejects.toThrow('client went away')
    await clock.advance(100)
    expect(await first).toBe(2)
    expect(await kept).toBe(4)
    expect(batches.flat()).not.toContain(99)
  })

  it('reports every batch with its size, duration and queue waits', async () => {
    const clock = new ManualClock()
    const reports: Array<{ size: number; durationMs: number; waitsMs: number[] }> = []
    const { b } = batcher(clock, () => 20, {
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      onBatch: (r) => reports.push(r),
    })
    const first = b.submit(1)
    await clock.advance(2)
    const pair = [b.submit(2), b.submit(3)]
    await clock.advance(100)
    await Promise.all([first, ...pair])
    expect(reports).toEqual([
      { size: 1, durationMs: 20, waitsMs: [0] },
      { size: 2, durationMs: 20, waitsMs: [18, 18] },
    ])
  })
})

describe('Batcher load shedding', () => {
  it('sheds nothing of a burst of 64 after a first batch 50x slower than the rest', async () => {
    const clock = new ManualClock()
    // The first batch pays for warm-up (500 ms); later ones take 10 ms plus 0.1 ms an input.
    const { b, batches } = batcher(clock, (size, call) => (call === 0 ? 500 : 10 + size / 10))
    const first = b.submit(0)
    await clock.advance(500)
    expect(await first).toBe(0)
    const burst = Array.from({ length: 64 }, (_, i) => b.submit(i + 1))
    await clock.advance(1000)
    const { answered, shed } = await outcome(burst)
    expect(shed).toEqual([])
    expect(answered).toBe(64)
    // The first of the burst goes alone at once (nothing was waiting); the rest in two batches.
    expect(batches.slice(1).map((batch) => batch.length)).toEqual([1, 32, 31])
  })

  it('sheds nothing of a burst of 64 that arrives while the slow first batch runs', async () => {
    const clock = new ManualClock()
    const { b } = batcher(clock, (size, call) => (call === 0 ? 500 : 10 + size / 10))
    const first = b.submit(0)
    await clock.advance(50)
    const burst = Array.from({ length: 64 }, (_, i) => b.submit(i + 1))
    await clock.advance(2000)
    expect((await outcome([first, ...burst])).shed).toEqual([])
  })

  it('sheds nothing while the second size seen is still warming up', async () => {
    const clock = new ManualClock()
    // A batch of a size not seen before is slow once (a new tensor shape).
    const seen = new Set<number>()
    const { b } = batcher(clock, (size) => {
      const cost = seen.has(size) ? 10 : 300
      seen.add(size)
      return cost
    })
    await warm(clock, b, 6)
    const burst = Array.from({ length: 20 }, (_, i) => b.submit(i))
    await clock.advance(2000)
    const second = Array.from({ length: 64 }, (_, i) => b.submit(i))
    await clock.advance(2000)
    expect((await outcome([...burst, ...second])).shed).toEqual([])
  })

  it('sheds quickly under a sustained overload, with a Retry-After, and meets the deadline for the rest', async () => {
    const clock = new ManualClock()
    // 50 ms a batch of up to 8: at most 160 requests a second, offered 1000.
    const { b } = batcher(clock, () => 50, { maxBatchSize: 8, maxLatencyMs: 200 })
    const sent: Array<{ at: number; answer: Promise<number> }> = []
    const answeredAt = new Map<number, number>()
    const refusedAt = new Map<number, number>()
    for (let ms = 0; ms < 3000; ms++) {
      const i = sent.length
      const answer = b.submit(i)
      answer.then(
        () => answeredAt.set(i, clock.now()),
        () => refusedAt.set(i, clock.now())
      )
      sent.push({ at: clock.now(), answer })
      await clock.advance(1)
    }
    await clock.advance(1000)
    const { answered, shed } = await outcome(sent.map((s) => s.answer))
    expect(shed.length).toBeGreaterThan(2000)
    expect(answered).toBeGreaterThan(300)
    for (const error of shed) {
      expect(error).toBeInstanceOf(BatchShedError)
      expect(error.retryAfter).toBeGreaterThanOrEqual(1)
      expect(error.message).toMatch(/maxLatencyMs \(200 ms\)/)
    }
    // Once the model had its evidence (a second or so), a refusal came at once, not after a wait;
    // and what was admitted then was answered within maxLatencyMs.
    for (const [i, at] of refusedAt) {
      if (sent[i]!.at > 1000) expect(at - sent[i]!.at).toBeLessThanOrEqual(1)
    }
    for (const [i, at] of answeredAt) {
      if (sent[i]!.at > 1000) expect(at - sent[i]!.at).toBeLessThanOrEqual(200)
    }
  })

  it('refuses a request at once when even an optimistic estimate misses the deadline', async () => {
    const clock = new ManualClock()
    // Batches of one: every request waits for each one queued before it.
    const { b, batches } = batcher(clock, () => 60, { maxBatchSize: 1, maxLatencyMs: 200 })
    await warm(clock, b, 6)
    const inFlight = b.submit(1)
    await clock.advance(5)
    // Two more fit before the deadline behind the one in flight (55 + 60 + 60 ms); a third does not.
    const fits = [b.submit(2), b.submit(3)]
    const late = b.submit(4)
    const refusal = await late.catch((error: unknown) => error)
    expect(refusal).toBeInstanceOf(BatchShedError)
    expect(clock.now()).toBe(6005)
    await clock.advance(200)
    expect(await inFlight).toBe(2)
    expect(await Promise.all(fits)).toEqual([4, 6])
    expect(batches.slice(6)).toEqual([[1], [2], [3]])
  })

  it('serves a request it admitted even when its batch runs late, rather than refuse it after a wait', async () => {
    const clock = new ManualClock()
    let slow = false
    const { b } = batcher(clock, () => (slow ? 500 : 10), { maxBatchSize: 4, maxLatencyMs: 100 })
    await warm(clock, b, 6)
    slow = true
    const first = b.submit(1)
    const queued = [b.submit(2), b.submit(3)]
    await clock.advance(2000)
    expect(await Promise.all([first, ...queued])).toEqual([2, 4, 6])
  })

  it('forgets its evidence after an idle spell longer than the model keeps samples', async () => {
    const clock = new ManualClock()
    const { b } = batcher(clock, () => 60, { maxBatchSize: 1, maxLatencyMs: 100 })
    await warm(clock, b, 6)
    expect(b.confident).toBe(true)
    await clock.advance(61_000)
    const burst = Array.from({ length: 3 }, (_, i) => b.submit(i))
    expect(b.confident).toBe(false)
    await clock.advance(1000)
    expect((await outcome(burst)).shed).toEqual([])
  })
})

describe('Batcher timers', () => {
  it('leaves no timer behind once the queue is empty', async () => {
    const clock = new ManualClock()
    const { b } = batcher(clock, () => 10, { maxLatencyMs: 1000 })
    await warm(clock, b, 3)
    const burst = Array.from({ length: 5 }, (_, i) => b.submit(i))
    await clock.advance(1000)
    await Promise.all(burst)
    await settle()
    expect(clock.pending).toBe(0)
  })
})
