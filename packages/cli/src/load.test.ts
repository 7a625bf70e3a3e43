import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { importModule } from './load.ts'

const dir = mkdtempSync(join(tmpdir(), 'bento-load-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('importModule', () => {
  it('imports TypeScript on Node through tsx, and JavaScript natively', async () => {
    writeFileSync(join(dir, 'typed.ts'), 'const n: number = 41\nexport const answer = n + 1\n')
    writeFileSync(join(dir, 'plain.mjs'), 'export const answer = 42\n')
    expect((await importModule(join(dir, 'typed.ts'))).answer).toBe(42)
    expect((await importModule(join(dir, 'plain.mjs'))).answer).toBe(42)
  })

  it('rejects with the module error', async () => {
    writeFileSync(join(dir, 'broken.mjs'), "throw new Error('top-level failure')\n")
    await expect(importModule(join(dir, 'broken.mjs'))).rejects.toThrow('top-level failure')
  })
})
