import { describe, expect, it } from 'vitest'
import { childTraceparent, parseTraceparent, traceOf } from './trace.ts'

describe('trace context', () => {
  it('keeps a valid incoming trace id and flags, with a new span id per call', () => {
    const trace = traceOf('00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-00')
    expect(trace).toEqual({ id: '4bf92f3577b34da6a3ce929d0e0e4736', flags: '00' })
    const one = childTraceparent(trace)
    const two = childTraceparent(trace)
    expect(one).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-00$/)
    expect(one).not.toBe(two)
  })

  it.each([
    [null],
    ['garbage'],
    ['ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'],
    ['00-00000000000000000000000000000000-00f067aa0ba902b7-01'],
    ['00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01'],
  ])('starts a new sampled trace for %s', (header) => {
    const trace = traceOf(header)
    expect(trace.id).toMatch(/^[0-9a-f]{32}$/)
    expect(trace.id).not.toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    expect(trace.flags).toBe('01')
  })

  it('reads a traceparent by the W3C rules, for the client and the tracer alike', () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    expect(parseTraceparent(` 00-${id}-00f067aa0ba902b7-01 `)).toEqual({
      traceId: id,
      spanId: '00f067aa0ba902b7',
      flags: '01',
    })
    // A later version may carry more fields; version 00 may not.
    expect(parseTraceparent(`01-${id}-00f067aa0ba902b7-01-what-comes-next`)?.traceId).toBe(id)
    expect(parseTraceparent(`00-${id}-00f067aa0ba902b7-01-more`)).toBeUndefined()
    // Lowercase hex only.
    expect(parseTraceparent(`00-${id.toUpperCase()}-00f067aa0ba902b7-01`)).toBeUndefined()
    expect(traceOf(`00-${id.toUpperCase()}-00f067aa0ba902b7-01`).id).not.toBe(id)
  })
})
