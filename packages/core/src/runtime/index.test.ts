import process from 'node:process'
import { afterEach, describe, expect, it } from 'vitest'
import { inheritedExecArgv } from './index.ts'

describe('inheritedExecArgv', () => {
  const own = process.execArgv
  afterEach(() => {
    process.execArgv = own
  })

  it("gives Node workers the supervisor's flags but the inspector's", () => {
    process.execArgv = [
      '--import',
      'tsx',
      '--inspect=9229',
      '--enable-source-maps',
      '--inspect-brk',
    ]
    expect(inheritedExecArgv('node')).toEqual(['--import', 'tsx', '--enable-source-maps'])
  })

  it('gives Bun and Deno workers none', () => {
    process.execArgv = ['--inspect', '--smol']
    expect(inheritedExecArgv('bun')).toEqual([])
    expect(inheritedExecArgv('deno')).toEqual([])
  })
})
