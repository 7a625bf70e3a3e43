import { cpSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CliError } from '../errors.ts'
import { copySources, ENTRY_FILE } from './sources.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bento-sources-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function write(path: string, text: string): void {
  mkdirSync(join(dir, path, '..'), { recursive: true })
  writeFileSync(join(dir, path), text)
}

describe('copySources', () => {
  it('copies every package the entry imports from, and keeps import.meta pointing at the copies wherever they go', async () => {
    write('repo/api/package.json', '{ "type": "module" }')
    write('repo/api/service.ts', "export { where } from '../model/where.ts'\n")
    write('repo/api/node_modules/x/index.js', '')
    write('repo/model/package.json', '{ "type": "module" }')
    write('repo/model/weights.bin', 'w')
    write(
      'repo/model/where.ts',
      'export const where = { url: import.meta.url, dir: import.meta.dirname, file: import.meta.filename }\n'
    )
    const built = await copySources(
      join(dir, 'repo/api/service.ts'),
      join(dir, 'app'),
      join(dir, 'app')
    )
    expect(built.entry).toBe(ENTRY_FILE)
    expect(built.packages.sort()).toEqual(['api', 'model'])
    expect(existsSync(join(dir, 'app/model/weights.bin'))).toBe(true)
    expect(existsSync(join(dir, 'app/api/node_modules'))).toBe(false)
    // As in an image: the app folder somewhere else entirely.
    const moved = join(dir, 'elsewhere', 'app')
    cpSync(join(dir, 'app'), moved, { recursive: true })
    rmSync(join(dir, 'repo'), { recursive: true })
    const { where } = await import(pathToFileURL(join(moved, ENTRY_FILE)).href)
    expect(where).toEqual({
      url: pathToFileURL(join(moved, 'model/where.ts')).href,
      dir: join(moved, 'model'),
      file: join(moved, 'model/where.ts'),
    })
  })

  it('names the file and the fix when the entry does not compile', async () => {
    write('p/package.json', '{}')
    write('p/service.ts', 'export const = 1\n')
    const failed = copySources(join(dir, 'p/service.ts'), join(dir, 'app'), join(dir, 'app'))
    await expect(failed).rejects.toThrow(CliError)
    await expect(failed).rejects.toThrow(/could not compile .*service\.ts: .*Fix: fix the error/)
  })
})
