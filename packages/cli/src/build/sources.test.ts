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

  it('leaves out what .gitignore lists, every dot-file whatever it says, and says why', async () => {
    write('p/package.json', '{ "type": "module" }')
    write('p/service.ts', 'export const x = 1\n')
    write('p/.gitignore', 'server.key\nsecrets.json\nlogs/\n!.env\n')
    write('p/server.key', 'PRIVATE KEY')
    write('p/secrets.json', '{"token":"s3cret"}')
    write('p/config/secrets.json', 'nested: git matches a name at any depth')
    write('p/logs/today.log', 'x')
    write('p/.env', 'TOKEN=s3cret')
    write('p/.npmrc', '//registry.npmjs.org/:_authToken=npm_s3cret')
    write('p/.git/config', '[remote "origin"]\n\turl = https://user:pass@example.com/r.git')
    write('p/model/weights.bin', 'w')
    const built = await copySources(join(dir, 'p/service.ts'), join(dir, 'app'), join(dir, 'app'))
    for (const kept of ['service.ts', 'package.json', 'model/weights.bin']) {
      expect(existsSync(join(dir, 'app', kept)), kept).toBe(true)
    }
    const left = ['server.key', 'secrets.json', 'config/secrets.json', 'logs', '.env', '.npmrc']
    for (const gone of [...left, '.git', '.gitignore']) {
      expect(existsSync(join(dir, 'app', gone)), gone).toBe(false)
    }
    const why = Object.fromEntries(built.leftOut.map((l) => [l.path, l.reason]))
    expect(why).toMatchObject({
      'server.key': 'listed in .gitignore',
      'secrets.json': 'listed in .gitignore',
      'config/secrets.json': 'listed in .gitignore',
      logs: 'listed in .gitignore',
      '.env': expect.stringMatching(/dot-file .*never copied/),
      '.git': expect.stringMatching(/dot-file/),
    })
  })

  it('reads .dockerignore over .gitignore, anchored at the folder as Docker reads it', async () => {
    write('p/package.json', '{ "type": "module" }')
    write('p/service.ts', 'export const x = 1\n')
    write('p/.gitignore', 'model/\n')
    write('p/.dockerignore', '# only the top one\nsecrets.json\n**/*.pem\n')
    write('p/model/weights.bin', 'w')
    write('p/secrets.json', 's')
    write('p/config/secrets.json', 'c')
    write('p/certs/deep/server.pem', 'p')
    const built = await copySources(join(dir, 'p/service.ts'), join(dir, 'app'), join(dir, 'app'))
    expect(existsSync(join(dir, 'app/model/weights.bin'))).toBe(true)
    expect(existsSync(join(dir, 'app/config/secrets.json'))).toBe(true)
    expect(existsSync(join(dir, 'app/secrets.json'))).toBe(false)
    expect(existsSync(join(dir, 'app/certs/deep/server.pem'))).toBe(false)
    const docker = built.leftOut.filter((l) => l.reason === 'listed in .dockerignore')
    expect(docker.map((l) => l.path).sort()).toEqual(['certs/deep/server.pem', 'secrets.json'])
  })

  it('names the file and the fix when the entry does not compile', async () => {
    write('p/package.json', '{}')
    write('p/service.ts', 'export const = 1\n')
    const failed = copySources(join(dir, 'p/service.ts'), join(dir, 'app'), join(dir, 'app'))
    await expect(failed).rejects.toThrow(CliError)
    await expect(failed).rejects.toThrow(/could not compile .*service\.ts: .*Fix: fix the error/)
  })
})
