import { describe, expect, it } from 'vitest'
import { safeText } from './safe-text.ts'

describe('safeText', () => {
  it('writes line breaks, escapes, NUL, DEL and C1 controls as \\xNN', () => {
    expect(safeText('/a\n[bento] worker 1: forged')).toBe('/a\\x0a[bento] worker 1: forged')
    expect(safeText('x\r\u001b[31mred\u0000\u007f\u0085\u009b')).toBe(
      'x\\x0d\\x1b[31mred\\x00\\x7f\\x85\\x9b'
    )
  })

  it('leaves tabs and printable text, other scripts included, as they are', () => {
    const text = 'GET /search?q=ramen\tbento 弁当 ü 200'
    expect(safeText(text)).toBe(text)
  })
})
