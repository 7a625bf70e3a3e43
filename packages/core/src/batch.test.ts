import { describe, expect, it } from 'vitest'
import { Batcher, BatchShedError, CostModel } from './batch.ts'

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** A handler that doubles its inputs after `ms`, recording every batch it was given. */
function doubler(ms: number) {
  const batches: number[][] = []
  const run = async (inputs: number[]) => {
    batches.push([...inputs])
    await sleep(ms)
    return inputs.map((x) => x * 2)
  }
  return { batches, run }
}

describe('CostModel', () => {
  it('fits a line through batch sizes and durations', () => {
    const model = new CostModel()
    expect(model.estimate(8)).toBe(0)
    model.observe(1, 12)
    model.observe(4, 18)
    model.observe(8, 26)
    expect(model.estimate(16)).toBeCloseTo(42, 5)
    expect(model.estimate(1)).toBeCloseTo(12, 5)
  })

  it('treats a negative slope as noise, not as bigger batches being cheaper', () => {
    const model = new CostModel()
    model.observe(1, 20)
    model.observe(8, 10)
    expect(model.estimate(1)).toBe(model.estimate(100))
    expect(model.estimate(1)).toBeCloseTo(15, 5)
  })

  it('forgets samples beyond its window, so it follows a handler that changes speed', () => {
    const model = new CostModel(4)
    for (let i = 0; i < 4; i++) model.observe(2, 100)
    for (let i = 0; i < 4; i++) model.observe(2, 10)
    expect(model.estimate(2)).toBeCloseTo(10, 5)
  })
})

describe('Batcher', () => {
  it('groups requests that arrive while a batch runs and hands each caller its own output', async () => {
    const { batches, run } = doubler(30)
    const batcher = new Batcher({ maxBatchSize: 16, maxLatencyMs: 1000, run })
    const first = batcher.submit(100)
    await sleep(5)
    const rest = Array.from({ length: 10 }, (_, i) => batcher.submit(i))
    expect(await first).toBe(200)
    expect(await Promise.all(rest)).toEqual([0, 2, 4, 6, 8, 10, 12, 14, 16, 18])
    expect(batches[0]).toEqual([100])
    expect(batches[1]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
    expect(batches).toHaveLength(2)
  })

  it('never sends more than maxBatchSize at once', async () => {
    const { batches, run } = doubler(20)
    const batcher = new Batcher({ maxBatchSize: 4, maxLatencyMs: 5000, run })
    const first = batcher.submit(-1)
    await sleep(2)
    const outputs = await Promise.all(Array.from({ length: 10 }, (_, i) => batcher.submit(i)))
    await first
    expect(outputs).toEqual(Array.from({ length: 10 }, (_, i) => i * 2))
    expect(Math.max(...batches.map((b) => b.length))).toBe(4)
    expect(batches.flat().sort((a, b) => a - b)).toEqual([-1, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9])
  })

  it('sends a lone request at once when no other is expected', async () => {
    const { batches, run } = doubler(1)
    // A light load must not pay the latency budget for nothing: were the request held for
    // maxLatencyMs, this test would outlive its 30-second timeout.
    const batcher = new Batcher({ maxBatchSize: 32, maxLatencyMs: 600_000, run })
    expect(await batcher.submit(21)).toBe(42)
    expect(batches).toEqual([[21]])
  })

  it('never holds back a client that waits for each answer before it sends the next', async () => {
    const { batches, run } = doubler(2)
    const batcher = new Batcher({ maxBatchSize: 32, maxLatencyMs: 1000, run })
    for (let i = 0; i < 20; i++) {
      const answer = batcher.submit(i)
      // Sent within submit itself: no timer stood between the request and the handler, however
      // the gaps between this client's requests have looked so far.
      expect(batches).toHaveLength(i + 1)
      expect(await answer).toBe(i * 2)
    }
  })

  it('rejects every caller of a batch whose handler throws, and keeps serving later batches', async () => {
    let calls = 0
    const batcher = new Batcher<number, number>({
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      run: async (inputs) => {
        calls++
        await sleep(20)
        if (inputs.includes(13)) throw new Error('unlucky batch')
        return inputs
      },
    })
    const warm = batcher.submit(1)
    await sleep(2)
    const doomed = [batcher.submit(12), batcher.submit(13), batcher.submit(14)]
    await warm
    const results = await Promise.allSettled(doomed)
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected'])
    for (const r of results)
      expect((r as PromiseRejectedResult).reason.message).toBe('unlucky batch')
    expect(await batcher.submit(7)).toBe(7)
    expect(calls).toBe(3)
  })

  it('fails the whole batch when the handler returns the wrong number of outputs', async () => {
    const batcher = new Batcher<number, number>({
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      run: async (inputs) => inputs.slice(1),
    })
    await expect(batcher.submit(1)).rejects.toThrow(
      /one output per input: got 0 outputs for 1 inputs/
    )
  })

  it('refuses at once a request that cannot be answered within maxLatencyMs', async () => {
    const { batches, run } = doubler(60)
    // Batches of one: every request waits for each one queued before it.
    const batcher = new Batcher({ maxBatchSize: 1, maxLatencyMs: 200, run })
    // Teach the cost model that a batch takes about 60 ms.
    await batcher.submit(0)
    const inFlight = batcher.submit(1)
    await sleep(5)
    // Two more fit before the deadline behind the one in flight (60 + 60 + 60 ms); a third does not.
    const fits = [batcher.submit(2), batcher.submit(3)]
    const order: string[] = []
    inFlight.then(() => order.push('batch in flight answered'))
    const late = batcher.submit(4)
    late.catch(() => order.push('late request refused'))
    await expect(late).rejects.toBeInstanceOf(BatchShedError)
    expect(await inFlight).toBe(2)
    // Refused before the batch in flight finished, not after waiting for it.
    expect(order).toEqual(['late request refused', 'batch in flight answered'])
    expect(await Promise.all(fits)).toEqual([4, 6])
    expect(batches.flat()).not.toContain(4)
  })

  it('carries a Retry-After hint on a refusal', async () => {
    const { run } = doubler(60)
    const batcher = new Batcher({ maxBatchSize: 1, maxLatencyMs: 100, run })
    await batcher.submit(0)
    const busy = batcher.submit(1)
    const error = await batcher.submit(2).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(BatchShedError)
    expect((error as BatchShedError).retryAfter).toBeGreaterThanOrEqual(1)
    expect((error as BatchShedError).message).toMatch(/maxLatencyMs \(100 ms\)/)
    expect(await busy).toBe(2)
  })

  it('drops a queued request whose signal aborts, and never runs it', async () => {
    const { batches, run } = doubler(30)
    const batcher = new Batcher({ maxBatchSize: 8, maxLatencyMs: 1000, run })
    const first = batcher.submit(1)
    await sleep(2)
    const controller = new AbortController()
    const aborted = batcher.submit(99, controller.signal)
    const kept = batcher.submit(2)
    controller.abort(new Error('client went away'))
    await expect(aborted).rejects.toThrow('client went away')
    expect(await first).toBe(2)
    expect(await kept).toBe(4)
    expect(batches.flat()).not.toContain(99)
  })

  it('reports every batch with its size, duration and queue waits', async () => {
    const reports: Array<{ size: number; durationMs: number; waitsMs: number[] }> = []
    const { run } = doubler(20)
    const batcher = new Batcher({
      maxBatchSize: 8,
      maxLatencyMs: 1000,
      run,
      onBatch: (r) => reports.push(r),
    })
    const first = batcher.submit(1)
    await sleep(2)
    await Promise.all([batcher.submit(2), batcher.submit(3), first])
    expect(reports.map((r) => r.size)).toEqual([1, 2])
    expect(reports[1]!.waitsMs).toHaveLength(2)
    for (const wait of reports[1]!.waitsMs) expect(wait).toBeGreaterThan(0)
    expect(reports[0]!.durationMs).toBeGreaterThan(10)
  })
})
