import { mkdirSync, rmSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { MAX_SOCKET_PATH, socketDirectory } from './socket-dir.ts'

describe('socketDirectory', () => {
  const before = process.env.TMPDIR
  const made: string[] = []
  afterEach(() => {
    process.env.TMPDIR = before
    for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
  })
  const make = (room: number) => {
    const dir = socketDirectory(room)
    made.push(dir)
    return dir
  }

  it('makes a directory only this user can enter, under the temporary directory', () => {
    const dir = make(20)
    expect(dirname(dir)).toBe(process.env.TMPDIR ?? '/tmp')
    expect(statSync(dir).mode & 0o777).toBe(0o700)
  })

  it('uses /tmp when TMPDIR leaves no room for the names, or is under /dev', () => {
    const long = join('/tmp', 'x'.repeat(80))
    mkdirSync(long, { recursive: true })
    made.push(long)
    process.env.TMPDIR = long
    expect(dirname(make(20))).toBe('/tmp')
    const shm = '/dev/shm'
    process.env.TMPDIR = shm
    expect(dirname(make(20))).toBe('/tmp')
    process.env.TMPDIR = '/tmp'
    const dir = make(MAX_SOCKET_PATH - '/tmp/bento-XXXXXX'.length)
    expect(dirname(dir)).toBe('/tmp')
  })
})
