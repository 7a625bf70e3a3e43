import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { watchProject } from './watch.ts'

const dir = mkdtempSync(join(tmpdir(), 'bento-watch-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

describe('watchProject', () => {
  it('reports a burst of saves as one change, and ignores node_modules', async () => {
    mkdirSync(join(dir, 'node_modules'))
    const calls: string[][] = []
    let resolveCall!: () => void
    const called = new Promise<void>((resolve) => {
      resolveCall = resolve
    })
    const watcher = watchProject(dir, async (files) => {
      calls.push(files.map((f) => f.slice(dir.length + 1)).sort())
      resolveCall()
    })
    try {
      await watcher.ready
      writeFileSync(join(dir, 'node_modules', 'dep.js'), '1')
      writeFileSync(join(dir, 'a.ts'), '1')
      writeFileSync(join(dir, 'b.ts'), '1')
      await called
      await new Promise((r) => setTimeout(r, 200))
      expect(calls).toEqual([['a.ts', 'b.ts']])
    } finally {
      await watcher.close()
    }
  })
})
