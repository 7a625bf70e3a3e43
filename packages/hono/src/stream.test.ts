import { describe, expect, it } from 'vitest'
import { sse, sseFrame, textChunk } from './stream.ts'

describe('sseFrame', () => {
  it('sends strings as data and anything else as JSON', () => {
    expect(sseFrame('hi')).toBe('data: hi\n\n')
    expect(sseFrame({ a: [1, 'b'] })).toBe('data: {"a":[1,"b"]}\n\n')
    expect(sseFrame(null)).toBe('data: null\n\n')
    expect(sseFrame(undefined)).toBe('data: null\n\n')
  })

  it('splits every kind of line break into data lines', () => {
    expect(sseFrame('a\nb\r\nc\rd')).toBe('data: a\ndata: b\ndata: c\ndata: d\n\n')
    expect(sseFrame('trailing\n')).toBe('data: trailing\ndata: \n\n')
  })

  it('writes event, id and retry around the data', () => {
    expect(sseFrame(sse({ event: 'token', id: '3', retry: 2500.7, data: 'x' }))).toBe(
      'event: token\ndata: x\nid: 3\nretry: 2500\n\n'
    )
  })

  it('refuses a line break in an event name or id', () => {
    expect(() => sseFrame(sse({ event: 'a\nb', data: 1 }))).toThrow(/line break/)
    expect(() => sseFrame(sse({ id: 'a\rb', data: 1 }))).toThrow(/line break/)
  })

  it('treats a plain object with the same fields as data, not as an event', () => {
    expect(sseFrame({ event: 'x', data: 1 })).toBe('data: {"event":"x","data":1}\n\n')
  })
})

describe('textChunk', () => {
  it('encodes strings, passes bytes, and writes objects as JSON lines', () => {
    expect(new TextDecoder().decode(textChunk('é'))).toBe('é')
    const bytes = new Uint8Array([1, 2])
    expect(textChunk(bytes)).toBe(bytes)
    expect([...textChunk(new Uint16Array([1]))]).toEqual([1, 0])
    expect(new TextDecoder().decode(textChunk({ a: 1 }))).toBe('{"a":1}\n')
  })
})
