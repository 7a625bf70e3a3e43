// Throwaway projects for CLI tests, inside the package so that `@bento/core` and `zod` resolve
// from its node_modules as they would from a user's.
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll } from 'vitest'

const base = fileURLToPath(new URL('../.tmp/', import.meta.url))
const made: string[] = []
// Some hold a build (a copy of node_modules): removing them may take a while on a busy disk.
afterAll(() => Promise.all(made.map((dir) => rm(dir, { recursive: true, force: true }))), 120_000)

/**
 * A fresh directory holding `files`.
 * @example
 * const cwd = project({ 'service.ts': source })
 */
export function project(files: Record<string, string>): string {
  mkdirSync(base, { recursive: true })
  const dir = mkdtempSync(join(base, 'project-'))
  made.push(dir)
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(join(dir, name, '..'), { recursive: true })
    writeFileSync(join(dir, name), text)
  }
  return dir
}

/** A service whose greeting carries `version`, so a test can see which code answers. */
export const greeter = (version: string, extra = '') => `import { api, service } from '@bento/core'
import { z } from 'zod'
${extra}
export default service({
  name: 'greeter',
  apis: {
    greet: api({
      input: z.object({ name: z.string() }),
      handler: ({ name }) => ({ message: 'Hello ' + name + ' from ${version}' }),
    }),
  },
})
`
