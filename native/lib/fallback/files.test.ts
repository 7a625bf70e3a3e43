import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { readerUnder, readWith } from './files.ts'

const root = mkdtempSync(join(tmpdir(), 'bento-files-'))
mkdirSync(join(root, 'proc/self'), { recursive: true })
writeFileSync(join(root, 'proc/self/cgroup'), '0::/\n')

describe('readerUnder', () => {
  it('reads a real path under the root', () => {
    expect(readerUnder(root)('/proc/self/cgroup')).toBe('0::/\n')
    expect(readerUnder(`${root}//`)('/proc/self/cgroup')).toBe('0::/\n')
  })

  it('gives null for a missing file or a directory', () => {
    expect(readerUnder(root)('/proc/self/missing')).toBeNull()
    expect(readerUnder(root)('/proc/self')).toBeNull()
  })

  it('reads the real file system with root /', () => {
    expect(readerUnder('/')('/proc/self/status')).toMatch(/^Name:/)
  })
})

describe('readWith', () => {
  const read = readerUnder(root)

  it('parses what it reads', () => {
    expect(readWith(read, '/proc/self/cgroup', (text) => text.trim())).toBe('0::/')
  })

  it('gives null when the file is missing or does not parse', () => {
    expect(readWith(read, '/proc/self/missing', () => 1)).toBeNull()
    expect(
      readWith(read, '/proc/self/cgroup', () => {
        throw new Error('bad')
      })
    ).toBeNull()
  })
})
