import { describe, expect, it } from 'vitest'
import { isStreamed } from './media.ts'

describe('isStreamed', () => {
  it('is true for the three kinds of stream bento writes, with parameters and in any case', () => {
    for (const type of [
      'text/event-stream',
      'text/event-stream; charset=utf-8',
      'application/x-ndjson',
      'text/plain; charset=utf-8',
      'Text/Event-Stream',
    ]) {
      expect(isStreamed(type), type).toBe(true)
    }
  })

  it('is false for whole answers: JSON, bytes, HTML, none', () => {
    for (const type of ['application/json', 'application/octet-stream', 'text/html', '']) {
      expect(isStreamed(type), type).toBe(false)
    }
  })
})
