import { describe, expect, it } from 'vitest'
import { tightest } from './tightest.ts'

const levels = ['/cg/a/b', '/cg/a', '/cg']

describe('tightest', () => {
  it('takes the smallest value over the levels', () => {
    const values: Record<string, number> = { '/cg/a/b': 4, '/cg/a': 1.5, '/cg': 3 }
    expect(tightest(levels, (dir) => ({ value: values[dir]!, source: dir }))).toStrictEqual({
      value: 1.5,
      source: '/cg/a',
    })
  })

  it('reports the level nearest the leaf on a tie', () => {
    expect(tightest(levels, (dir) => ({ value: 2n, source: dir }))?.source).toBe('/cg/a/b')
  })

  it('skips levels without a value', () => {
    const read = (dir: string) => (dir === '/cg' ? { value: 7, source: dir } : null)
    expect(tightest(levels, read)).toStrictEqual({ value: 7, source: '/cg' })
    expect(tightest(levels, () => null)).toBeNull()
    expect(tightest([], () => ({ value: 1, source: 'x' }))).toBeNull()
  })
})
