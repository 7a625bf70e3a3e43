import { describe, expect, it } from 'vitest'
import { CostModel } from './cost-model.ts'

/** Observes each `[n, ms]`, one second apart. */
function fed(samples: Array<[number, number]>, options = {}) {
  const model = new CostModel(options)
  samples.forEach(([n, ms], i) => {
    model.observe(n, ms, i * 1000)
  })
  return model
}

describe('CostModel', () => {
  it('leaves the warm-up batch out of the fit', () => {
    const model = fed([
      [1, 500],
      [1, 10],
      [1, 10],
      [1, 10],
      [1, 10],
    ])
    expect(model.evidence).toBe(4)
    expect(model.estimate(1)).toBe(10)
    expect(model.lowerBound(1)).toBe(10)
  })

  it('is not confident before it has seen minSamples batches after warm-up', () => {
    const model = new CostModel({ warmup: 1, minSamples: 4 })
    for (let i = 0; i < 4; i++) {
      model.observe(1, 10, i)
      expect(model.confident).toBe(false)
    }
    model.observe(1, 10, 5)
    expect(model.confident).toBe(true)
  })

  it('fits a line through batch sizes and durations', () => {
    const model = fed(
      [
        [1, 12],
        [1, 12],
        [4, 18],
        [4, 18],
        [8, 26],
        [8, 26],
      ],
      { warmup: 0 }
    )
    expect(model.estimate(1)).toBeCloseTo(12, 5)
    expect(model.estimate(16)).toBeCloseTo(42, 5)
  })

  it('is not dragged by a few wild batches among many', () => {
    const samples: Array<[number, number]> = []
    for (let i = 0; i < 20; i++) samples.push([i % 2 ? 8 : 2, i % 2 ? 18 : 6])
    samples.push([2, 900], [8, 1200])
    const model = fed(samples, { warmup: 0 })
    expect(model.estimate(2)).toBeCloseTo(6, 0)
    expect(model.estimate(8)).toBeCloseTo(18, 0)
  })

  it('takes no slope from a single batch of a new size (its first run is often slow)', () => {
    const model = fed(
      [
        [1, 10],
        [1, 10],
        [1, 10],
        [19, 400],
      ],
      { warmup: 0 }
    )
    // The slope would be 21.7 ms per input from that one batch, predicting 684 ms for 32.
    expect(model.lowerBound(32)).toBe(model.lowerBound(1))
    expect(model.lowerBound(32)).toBe(10)
  })

  it('refuses on an optimistic bound: the lower quartile, never above the typical cost', () => {
    const model = fed(
      [
        [4, 10],
        [4, 20],
        [4, 30],
        [4, 40],
        [4, 50],
      ],
      { warmup: 0 }
    )
    expect(model.estimate(4)).toBe(30)
    expect(model.lowerBound(4)).toBe(20)
  })

  it('treats a negative slope as noise, not as bigger batches being cheaper', () => {
    const model = fed(
      [
        [1, 20],
        [1, 20],
        [8, 10],
        [8, 10],
      ],
      { warmup: 0 }
    )
    expect(model.estimate(1)).toBe(model.estimate(100))
  })

  it('forgets batches beyond its window, so it follows a handler that changes speed', () => {
    const model = new CostModel({ window: 4, warmup: 0 })
    for (let i = 0; i < 4; i++) model.observe(2, 100, i)
    for (let i = 0; i < 4; i++) model.observe(2, 10, 10 + i)
    expect(model.estimate(2)).toBe(10)
  })

  it('forgets batches older than maxAgeMs, and is then not confident any more', () => {
    const model = new CostModel({ warmup: 0, minSamples: 2, maxAgeMs: 60_000 })
    model.observe(1, 100, 0)
    model.observe(1, 100, 1000)
    expect(model.confident).toBe(true)
    model.forget(62_000)
    expect(model.evidence).toBe(0)
    expect(model.confident).toBe(false)
    expect(model.estimate(1)).toBe(0)
  })

  it('estimates 0 before any batch', () => {
    expect(new CostModel().estimate(8)).toBe(0)
    expect(new CostModel().lowerBound(8)).toBe(0)
  })
})
