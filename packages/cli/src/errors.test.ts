import { BentoConfigError } from '@bento/core'
import { EntryError } from '@bento/core/adapter'
import { describe, expect, it } from 'vitest'
import { CliError, formatError } from './errors.ts'

describe('formatError', () => {
  it("prints the user's mistakes as one line, without a hint", () => {
    const config = new BentoConfigError({ field: 'workers', problem: 'must be 1+', fix: 'set it' })
    expect(formatError(config, { verbose: false })).toBe('bento: workers must be 1+. Fix: set it.')
    expect(formatError(new CliError('no entry', 'give one'), { verbose: false })).toBe(
      'bento: no entry. Fix: give one.'
    )
    expect(formatError(new EntryError('could not load a.ts: boom\nmore'), { verbose: false })).toBe(
      'bento: could not load a.ts: boom'
    )
  })

  it("prints bento's own failures with a hint, and every stack with --verbose", () => {
    const bug = new TypeError('x is undefined')
    expect(formatError(bug, { verbose: false })).toBe(
      'bento: x is undefined (run with --verbose for the stack trace)'
    )
    expect(formatError(bug, { verbose: true })).toMatch(/^bento: TypeError: x is undefined\n\s+at /)
    expect(formatError('plain', { verbose: false })).toBe('bento: plain')
  })
})
