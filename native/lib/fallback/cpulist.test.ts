import { describe, expect, it } from 'vitest'
import { countCpuList } from './cpulist.ts'

describe('countCpuList', () => {
  it.each([
    ['0', 1],
    ['0-3', 4],
    ['0-3,6\n', 5],
    ['0-3,8-11', 8],
    ['  1,3,5,7  ', 4],
    ['0-4095', 4096],
    ['', 0],
    ['\n', 0],
  ])('%j holds %i CPUs', (list, count) => {
    expect(countCpuList(list)).toBe(count)
  })

  it.each([
    ['0-3,x', 'bad entry "x"'],
    ['0,,1', 'bad entry ""'],
    ['3-1', 'range "3-1" runs backwards'],
    ['-1', 'bad entry "-1"'],
    ['0-', 'bad entry "0-"'],
  ])('rejects %j', (list, message) => {
    expect(() => countCpuList(list)).toThrow(message)
  })
})
