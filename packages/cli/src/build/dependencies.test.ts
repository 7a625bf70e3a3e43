import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { CliError } from '../errors.ts'
import { copyDependencies, pinManifests } from './dependencies.ts'

let dir: string
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'bento-deps-'))
})
afterEach(() => rmSync(dir, { recursive: true, force: true }))

function file(path: string, text = ''): void {
  mkdirSync(dirname(join(dir, path)), { recursive: true })
  writeFileSync(join(dir, path), text)
}
function pkg(path: string, manifest: Record<string, unknown>): void {
  file(join(path, 'package.json'), JSON.stringify(manifest))
}
const version = (path: string) =>
  JSON.parse(readFileSync(join(dir, 'out', path, 'package.json'), 'utf8')).version

describe('copyDependencies', () => {
  it('lays out the production closure as Node resolves it, nesting a second version under its user', () => {
    pkg('project', {
      dependencies: { a: '1', b: '1' },
      optionalDependencies: { 'not-installed': '1' },
      devDependencies: { dev: '1' },
    })
    pkg('project/node_modules/a', { name: 'a', version: '1.0.0', dependencies: { c: '1' } })
    pkg('project/node_modules/c', { name: 'c', version: '1.0.0' })
    // b wants c@2, found beside it (as pnpm and npm place a second version).
    pkg('project/node_modules/b', {
      name: 'b',
      version: '1.0.0',
      dependencies: { c: '2' },
      peerDependencies: { typescript: '5', d: '1' },
      peerDependenciesMeta: { typescript: { optional: true } },
    })
    pkg('project/node_modules/b/node_modules/c', { name: 'c', version: '2.0.0' })
    pkg('project/node_modules/d', { name: 'd', version: '1.0.0' })
    pkg('project/node_modules/typescript', { name: 'typescript', version: '5.0.0' })
    pkg('project/node_modules/dev', { name: 'dev', version: '1.0.0' })

    const copied = copyDependencies([join(dir, 'project')], join(dir, 'out'))
    expect(copied.map((p) => `${p.path}@${p.version}`).sort()).toEqual([
      'node_modules/a@1.0.0',
      'node_modules/b/node_modules/c@2.0.0',
      'node_modules/b@1.0.0',
      'node_modules/c@1.0.0',
      'node_modules/d@1.0.0',
    ])
    expect(version('node_modules/c')).toBe('1.0.0')
    expect(version('node_modules/b/node_modules/c')).toBe('2.0.0')
    // b's own node_modules was not copied with b: only what the closure placed there.
    expect(existsSync(join(dir, 'out/node_modules/typescript'))).toBe(false)
    expect(existsSync(join(dir, 'out/node_modules/dev'))).toBe(false)
  })

  it("leaves out what a package's bento.toolchain names, and what only that needs", () => {
    pkg('project', { dependencies: { cli: '1' } })
    pkg('project/node_modules/cli', {
      name: 'cli',
      version: '1.0.0',
      dependencies: { runtime: '1', compiler: '1' },
      bento: { toolchain: ['compiler'] },
    })
    pkg('project/node_modules/runtime', { name: 'runtime', version: '1.0.0' })
    pkg('project/node_modules/compiler', {
      name: 'compiler',
      version: '1.0.0',
      dependencies: { 'compiler-binary': '1' },
    })
    pkg('project/node_modules/compiler-binary', { name: 'compiler-binary', version: '1.0.0' })

    const copied = copyDependencies([join(dir, 'project')], join(dir, 'out'))
    expect(copied.map((p) => p.name).sort()).toEqual(['cli', 'runtime'])
  })

  it('copies a workspace package as published, with its linux-x64 Node-API binary; prunes other systems', () => {
    pkg('project', { dependencies: { w: 'workspace:*', ort: '1' } })
    pkg('packages/w', {
      name: 'w',
      version: '0.1.0',
      files: ['dist'],
      napi: { binaryName: 'w-native' },
    })
    file('packages/w/dist/index.js', 'export {}')
    file('packages/w/src/index.ts', 'export {}')
    file('packages/w/w-native.linux-x64-gnu.node', 'binary')
    mkdirSync(join(dir, 'project/node_modules'), { recursive: true })
    symlinkSync(join(dir, 'packages/w'), join(dir, 'project/node_modules/w'))
    pkg('project/node_modules/ort', { name: 'ort', version: '1.0.0' })
    for (const platform of ['darwin/arm64', 'win32/x64', 'linux/arm64', 'linux/x64']) {
      file(`project/node_modules/ort/bin/napi-v6/${platform}/binding.node`, 'binary')
    }

    copyDependencies([join(dir, 'project')], join(dir, 'out'))
    const w = join(dir, 'out/node_modules/w')
    expect(existsSync(join(w, 'dist/index.js'))).toBe(true)
    expect(existsSync(join(w, 'w-native.linux-x64-gnu.node'))).toBe(true)
    expect(existsSync(join(w, 'src'))).toBe(false)
    const bin = join(dir, 'out/node_modules/ort/bin/napi-v6')
    expect(existsSync(join(bin, 'linux/x64/binding.node'))).toBe(true)
    for (const gone of ['darwin', 'win32', 'linux/arm64'])
      expect(existsSync(join(bin, gone))).toBe(false)
  })

  it('leaves out what nothing runs (declarations, source maps, documents) and every dot-file', () => {
    pkg('project', { dependencies: { lib: '1' } })
    pkg('project/node_modules/lib', { name: 'lib', version: '1.0.0' })
    const kept = ['index.js', 'index.cjs', 'esm/index.mjs', 'src/index.ts', 'LICENSE.md', 'NOTICE']
    const left = [
      'index.d.ts',
      'index.d.cts',
      'esm/index.d.mts',
      'index.js.map',
      'esm/index.mjs.map',
      'index.d.ts.map',
      'README.md',
      'docs/guide.markdown',
      '.npmrc',
      '.env.production',
      '.git/config',
    ]
    for (const path of [...kept, ...left]) file(`project/node_modules/lib/${path}`, 'x')

    copyDependencies([join(dir, 'project')], join(dir, 'out'))
    const lib = join(dir, 'out/node_modules/lib')
    for (const path of [...kept, 'package.json'])
      expect(existsSync(join(lib, path)), path).toBe(true)
    for (const path of left) expect(existsSync(join(lib, path)), path).toBe(false)
  })

  it('copies a file: package without "files" less what its .npmignore lists and every dot-file, saying why', () => {
    pkg('project', { dependencies: { lib: 'file:../lib' } })
    pkg('lib', { name: 'lib', version: '2.0.0' })
    file('lib/index.js', 'export {}')
    file('lib/.npmignore', 'server.key\nsecrets.json\n')
    file('lib/.gitignore', 'index.js\n')
    for (const secret of ['server.key', 'secrets.json', '.env', '.npmrc', '.git/config'])
      file(`lib/${secret}`, 's3cret')
    mkdirSync(join(dir, 'project/node_modules'), { recursive: true })
    symlinkSync(join(dir, 'lib'), join(dir, 'project/node_modules/lib'))
    const leftOut: { path: string; reason: string }[] = []
    copyDependencies([join(dir, 'project')], join(dir, 'out'), leftOut)
    const lib = join(dir, 'out/node_modules/lib')
    // .npmignore is read instead of .gitignore, as npm does.
    expect(existsSync(join(lib, 'index.js'))).toBe(true)
    for (const secret of ['server.key', 'secrets.json', '.env', '.npmrc', '.git', '.npmignore'])
      expect(existsSync(join(lib, secret)), secret).toBe(false)
    const why = Object.fromEntries(leftOut.map((l) => [l.path, l.reason]))
    expect(why).toMatchObject({
      'node_modules/lib/server.key': 'listed in .npmignore',
      'node_modules/lib/secrets.json': 'listed in .npmignore',
      'node_modules/lib/.env': expect.stringMatching(/dot-file/),
      'node_modules/lib/.git': expect.stringMatching(/dot-file/),
    })
  })

  it('copies what "files" names, globs included, and refuses an entry outside the package', () => {
    pkg('project', { dependencies: { w: 'workspace:*' } })
    pkg('packages/w', { name: 'w', version: '0.1.0', files: ['dist/*.js', 'bin'] })
    file('packages/w/dist/index.js', 'export {}')
    file('packages/w/dist/index.test.ts', 'test')
    file('packages/w/bin/cli.js', '#!/usr/bin/env node')
    file('packages/w/secrets.json', 's3cret')
    mkdirSync(join(dir, 'project/node_modules'), { recursive: true })
    symlinkSync(join(dir, 'packages/w'), join(dir, 'project/node_modules/w'))
    copyDependencies([join(dir, 'project')], join(dir, 'out'))
    const w = join(dir, 'out/node_modules/w')
    expect(existsSync(join(w, 'dist/index.js'))).toBe(true)
    expect(existsSync(join(w, 'bin/cli.js'))).toBe(true)
    expect(existsSync(join(w, 'dist/index.test.ts'))).toBe(false)
    expect(existsSync(join(w, 'secrets.json'))).toBe(false)

    pkg('packages/w', { name: 'w', version: '0.1.0', files: ['dist', '../../secrets'] })
    rmSync(join(dir, 'out'), { recursive: true })
    expect(() => copyDependencies([join(dir, 'project')], join(dir, 'out'))).toThrow(
      /w's "files" entry "\.\.\/\.\.\/secrets" is outside the package.*list only paths inside/
    )
  })

  it("gives the app's package.json the versions copied in place of workspace: and file: ranges", () => {
    pkg('out', {
      name: 'app',
      dependencies: { w: 'workspace:*', f: 'file:../f', zod: '4.6.7', missing: 'workspace:*' },
      devDependencies: { vitest: 'workspace:*' },
    })
    pinManifests(
      join(dir, 'out'),
      ['.'],
      [
        { name: 'w', version: '0.3.0', path: 'node_modules/w' },
        { name: 'f', version: '1.2.3', path: 'node_modules/f' },
        { name: 'zod', version: '4.6.7', path: 'node_modules/zod' },
        { name: 'w', version: '9.9.9', path: 'node_modules/x/node_modules/w' },
      ]
    )
    const manifest = JSON.parse(readFileSync(join(dir, 'out/package.json'), 'utf8'))
    expect(manifest).toEqual({
      name: 'app',
      // A range with nothing copied for it stays, so the mismatch shows.
      dependencies: { w: '0.3.0', f: '1.2.3', zod: '4.6.7', missing: 'workspace:*' },
    })
  })

  it('refuses a dependency that is not installed, saying to install first', () => {
    pkg('project', { name: 'project', dependencies: { missing: '1' } })
    expect(() => copyDependencies([join(dir, 'project')], join(dir, 'out'))).toThrow(CliError)
    expect(() => copyDependencies([join(dir, 'project')], join(dir, 'out'))).toThrow(
      /project depends on missing, which is not installed.*install the project first/
    )
  })
})
