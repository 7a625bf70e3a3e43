import { describe, expect, it } from 'vitest'
import { jsonLines, serverEvents, textPieces } from './chunks.ts'

/** A body that arrives in exactly these pieces. */
function body(...pieces: string[]): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder()
  return new ReadableStream({
    start(controller) {
      for (const piece of pieces) controller.enqueue(encoder.encode(piece))
      controller.close()
    },
  })
}

async function all<T>(iterable: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = []
  for await (const item of iterable) out.push(item)
  return out
}

describe('serverEvents', () => {
  it('parses events split anywhere, with names, multi-line data, comments and CRLF', async () => {
    const events = await all(
      serverEvents(
        body(
          ': a comment\r\n',
          'data: {"a"',
          ':1}\n\nevent: tok',
          'en\ndata: one\ndata: two\nid: 7\n\n',
          'data:no space\r\n\r\n',
          'data: last without a blank line'
        )
      )
    )
    expect(events).toEqual([
      { event: 'message', data: '{"a":1}' },
      { event: 'token', data: 'one\ntwo' },
      { event: 'message', data: 'no space' },
      { event: 'message', data: 'last without a blank line' },
    ])
  })

  it('skips an event with no data', async () => {
    expect(await all(serverEvents(body('event: ping\n\ndata: x\n\n')))).toEqual([
      { event: 'message', data: 'x' },
    ])
  })
})

describe('jsonLines and textPieces', () => {
  it('parses newline-delimited JSON across pieces', async () => {
    expect(await all(jsonLines(body('{"a":', '1}\n\n{"b":2}\n', '[3]')))).toEqual([
      { a: 1 },
      { b: 2 },
      [3],
    ])
  })

  it('decodes UTF-8 split inside a character', async () => {
    const bytes = new TextEncoder().encode('héllo')
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        controller.enqueue(bytes.slice(0, 2))
        controller.enqueue(bytes.slice(2))
        controller.close()
      },
    })
    expect((await all(textPieces(stream))).join('')).toBe('héllo')
  })
})
