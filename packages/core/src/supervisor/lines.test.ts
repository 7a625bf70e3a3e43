import { describe, expect, it } from 'vitest'
import { lineSplitter, pumpLines } from './lines.ts'

describe('lineSplitter', () => {
  it('joins pieces into lines and strips \\r', () => {
    const lines: string[] = []
    const split = lineSplitter((line) => lines.push(line))
    split.push('he')
    split.push('llo\r\nwor')
    split.push('ld\n\nlast')
    expect(lines).toEqual(['hello', 'world', ''])
    split.end()
    expect(lines).toEqual(['hello', 'world', '', 'last'])
  })

  it('cuts a line longer than maxLength', () => {
    const lines: string[] = []
    const split = lineSplitter((line) => lines.push(line), 4)
    split.push('abcdefghij')
    split.end()
    expect(lines).toEqual(['abcd', 'efgh', 'ij'])
  })
})

describe('pumpLines', () => {
  it('decodes UTF-8 split across chunks', async () => {
    const bytes = new TextEncoder().encode('héllo\nwörld')
    async function* chunks() {
      for (const byte of bytes) yield new Uint8Array([byte])
    }
    const lines: string[] = []
    await pumpLines(chunks(), (line) => lines.push(line))
    expect(lines).toEqual(['héllo', 'wörld'])
  })

  it('keeps what was read when the stream fails', async () => {
    async function* failing() {
      yield new TextEncoder().encode('partial')
      throw new Error('EPIPE')
    }
    const lines: string[] = []
    await pumpLines(failing(), (line) => lines.push(line))
    expect(lines).toEqual(['partial'])
  })
})
