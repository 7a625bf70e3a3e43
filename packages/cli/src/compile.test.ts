import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { compileEntry } from './compile.ts'

const base = join(import.meta.dirname, '..', '.tmp')
mkdirSync(base, { recursive: true })
const made: string[] = []
afterAll(() => {
  for (const dir of made) rmSync(dir, { recursive: true, force: true })
})

/** A project inside this package (so that bare imports resolve from its node_modules). */
function project(files: Record<string, string>): string {
  const dir = mkdtempSync(join(base, 'compile-'))
  made.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

describe('compileEntry', () => {
  it('compiles a TypeScript entry and its local imports into one module that keeps each file’s import.meta', async () => {
    const dir = project({
      'service.ts': `import { where } from './lib/where.ts'
import { Command } from 'commander'
export const here: string = import.meta.url
export const there = where
export const dep = typeof Command
`,
      'lib/where.ts':
        'export const where = { url: import.meta.url, dirname: import.meta.dirname }\n',
    })
    const compiled = await compileEntry(join(dir, 'service.ts'))
    expect(compiled).toBeDefined()
    try {
      // Inside the nearest node_modules, so that `commander` resolves as it does from the source.
      expect(compiled!.file).toMatch(
        /\/packages\/cli\/node_modules\/\.cache\/bento\/service-[0-9a-f]{12}\.mjs$/
      )
      const module = await import(pathToFileURL(compiled!.file).href)
      expect(module.here).toBe(pathToFileURL(join(dir, 'service.ts')).href)
      expect(module.there).toEqual({
        url: pathToFileURL(join(dir, 'lib/where.ts')).href,
        dirname: join(dir, 'lib'),
      })
      expect(module.dep).toBe('function')
    } finally {
      await compiled?.dispose()
    }
  })

  it('rebuilds from the current sources, and reports a syntax error with its place', async () => {
    const dir = project({ 'service.ts': 'export const version = 1\n' })
    const compiled = await compileEntry(join(dir, 'service.ts'))
    try {
      writeFileSync(join(dir, 'service.ts'), 'export const version = 2\n')
      await compiled!.rebuild()
      const module = await import(`${pathToFileURL(compiled!.file).href}?v=2`)
      expect(module.version).toBe(2)
      writeFileSync(join(dir, 'service.ts'), 'export const version = (\n')
      await expect(compiled!.rebuild()).rejects.toThrow(
        /could not load .*service\.ts: Unexpected end of file \(.*service\.ts:2:0\)/
      )
    } finally {
      await compiled?.dispose()
    }
  })

  it('writes beside it a preload of the packages it imports at once, in order, and rewrites it on rebuild', async () => {
    const dir = project({
      'service.ts': `import { parseArgs } from 'node:util'
import { Command } from 'commander'
import { where } from './lib/where.ts'
export const later = () => import('yaml')
export default [parseArgs, Command, where]
`,
      'lib/where.ts': "import 'chokidar'\nexport const where = 1\n",
    })
    const compiled = await compileEntry(join(dir, 'service.ts'))
    try {
      expect(compiled!.preload).toBe(compiled!.file.replace(/\.mjs$/, '.preload.mjs'))
      // In the order the modules evaluate them, with no builtins and no dynamic import.
      expect(readFileSync(compiled!.preload, 'utf8')).toBe(
        'import "commander"\nimport "chokidar"\n'
      )
      writeFileSync(join(dir, 'lib/where.ts'), 'export const where = 2\n')
      await compiled!.rebuild()
      expect(readFileSync(compiled!.preload, 'utf8')).toBe('import "commander"\n')
    } finally {
      await compiled?.dispose()
    }
  })

  it('leaves JavaScript entries, and entries with no node_modules above them, to the runtime', async () => {
    const dir = project({ 'service.js': 'export default 1\n' })
    expect(await compileEntry(join(dir, 'service.js'))).toBeUndefined()
    const lonely = mkdtempSync(join(tmpdir(), 'bento-lonely-'))
    made.push(lonely)
    writeFileSync(join(lonely, 'service.ts'), 'export default 1\n')
    expect(await compileEntry(join(lonely, 'service.ts'))).toBeUndefined()
  })
})
