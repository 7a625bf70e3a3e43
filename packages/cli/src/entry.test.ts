import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { resolveEntry } from './entry.ts'
import { CliError } from './errors.ts'

const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

function dir(files: Record<string, string>): string {
  const root = mkdtempSync(join(tmpdir(), 'bento-entry-'))
  made.push(root)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(root, name, '..'), { recursive: true })
    writeFileSync(join(root, name), text)
  }
  return root
}

describe('resolveEntry', () => {
  it('takes a file as it is, relative to cwd', () => {
    const root = dir({ 'api/main.ts': '' })
    expect(resolveEntry('api/main.ts', root)).toBe(join(root, 'api/main.ts'))
  })

  it("takes a directory's service file, the first of service.ts, .mts, .js, .mjs, then under src/", () => {
    const root = dir({ 'a/service.js': '', 'a/service.mjs': '', 'b/src/service.ts': '' })
    expect(resolveEntry('a', root)).toBe(join(root, 'a/service.js'))
    expect(resolveEntry('b', root)).toBe(join(root, 'b/src/service.ts'))
  })

  it("falls back to a directory's package.json main", () => {
    const root = dir({
      'app/package.json': JSON.stringify({ main: 'lib/server.mjs' }),
      'app/lib/server.mjs': '',
    })
    expect(resolveEntry('app', root)).toBe(join(root, 'app/lib/server.mjs'))
  })

  it('takes the current directory when given nothing', () => {
    const root = dir({ 'service.ts': '' })
    expect(resolveEntry(undefined, root)).toBe(join(root, 'service.ts'))
  })

  it('lists what it looked for when a directory has no service', () => {
    const root = dir({ 'empty/readme.md': '', 'pkg/package.json': '{"main":"gone.js"}' })
    expect(() => resolveEntry('empty', root)).toThrow(
      /no service in .*empty: looked for service\.ts, service\.mts, service\.js, service\.mjs, src\/service\.ts, src\/service\.mts, src\/service\.js, src\/service\.mjs and a package\.json with a "main"\. Fix: create service\.ts/
    )
    expect(() => resolveEntry('pkg', root)).toThrow(
      /package\.json's main \(gone\.js, which does not exist\)/
    )
    expect(() => resolveEntry(undefined, join(root, 'empty'))).toThrow(
      /no service in the current directory/
    )
  })

  it('names a path that does not exist', () => {
    const root = dir({})
    const error = (() => {
      try {
        resolveEntry('nope.ts', root)
      } catch (e) {
        return e
      }
    })()
    expect(error).toBeInstanceOf(CliError)
    expect((error as Error).message).toMatch(
      /^nope\.ts does not exist \(looked at .*nope\.ts\)\. Fix: /
    )
  })
})
