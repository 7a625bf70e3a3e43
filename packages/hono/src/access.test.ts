import { describe, expect, it } from 'vitest'
import { traceIdOf, utf8Length } from './access.ts'

describe('utf8Length', () => {
  it('counts the bytes UTF-8 takes, surrogate pairs as four', () => {
    for (const text of ['', 'hello', 'héllo', '日本語', 'a😀b', '{"q":"ramen 🍜"}']) {
      expect(utf8Length(text)).toBe(new TextEncoder().encode(text).length)
    }
  })
})

describe('traceIdOf', () => {
  const request = (traceparent?: string) =>
    new Request('http://x/', traceparent === undefined ? {} : { headers: { traceparent } })

  it("is the caller's trace id, or nothing for no or an invalid traceparent", () => {
    const id = '4bf92f3577b34da6a3ce929d0e0e4736'
    expect(traceIdOf(request(`00-${id}-00f067aa0ba902b7-01`))).toBe(id)
    expect(traceIdOf(request(`00-${id.toUpperCase()}-00f067aa0ba902b7-01`))).toBe(id)
    expect(traceIdOf(request())).toBeUndefined()
    expect(traceIdOf(request('garbage'))).toBeUndefined()
    expect(traceIdOf(request(`00-${'0'.repeat(32)}-00f067aa0ba902b7-01`))).toBeUndefined()
  })
})
