// Publishing shape: every public package packs and passes a publish dry run, the addon's platform
// package carries the binary, and `changeset version` + `napi version` keep @bento/native and its
// platform packages on one version.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { stagePlatformPackage } from './support/platform.ts'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const bin = (name: string) => join(root, 'node_modules/.bin', name)
const temps: string[] = []
afterAll(() => {
  for (const dir of temps) rmSync(dir, { recursive: true, force: true })
})

function readJson(path: string) {
  return JSON.parse(readFileSync(path, 'utf8'))
}

function publicPackages(): string[] {
  const dirs = [
    'native',
    'native/npm/linux-x64-gnu',
    'packages/core',
    'packages/hono',
    'packages/cli',
  ]
  return dirs.filter((dir) => {
    try {
      return readJson(join(root, dir, 'package.json')).private !== true
    } catch {
      return false
    }
  })
}

describe('publishing', () => {
  it('passes a publish dry run for every public package, with the binary in its platform package', () => {
    const staged = stagePlatformPackage()
    temps.push(staged.dir)
    for (const dir of publicPackages()) {
      // The platform package as the release lays it out, binary included (in a copy).
      const at = dir === 'native/npm/linux-x64-gnu' ? staged.platform : join(root, dir)
      const pkg = readJson(join(at, 'package.json'))
      const out = execFileSync('npm', ['publish', '--dry-run', '--json', '--ignore-scripts'], {
        cwd: at,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      // npm 11 keys the report by package name; older npm printed the report itself.
      const parsed = JSON.parse(out.slice(out.indexOf('{')))
      const report = parsed[pkg.name] ?? parsed
      const files: string[] = report.files.map((f: { path: string }) => f.path)
      expect(report.name).toBe(pkg.name)
      expect(files).toContain('package.json')
      if (dir === 'native/npm/linux-x64-gnu')
        expect(files).toContain('bento-native.linux-x64-gnu.node')
      else {
        const built = files.some((f) => f.startsWith('dist/') && f.endsWith('.js'))
        expect(built, `${dir} packs no dist/*.js: build it first (npm run build)`).toBe(true)
      }
      expect(files.some((f) => f.endsWith('.test.js') || f.endsWith('.test.ts'))).toBe(false)
    }
  })

  it('keeps @bento/native and its platform packages on one version through changeset version and napi version', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bento-release-'))
    temps.push(dir)
    for (const path of [
      'package.json',
      'pnpm-workspace.yaml',
      '.changeset/config.json',
      'native',
      'packages',
    ]) {
      cpSync(join(root, path), join(dir, path), {
        recursive: true,
        filter: (src) =>
          !/node_modules|\/target|\/dist|\.node$|\/src\/|\/lib\/|\/test\//.test(
            src.slice(root.length)
          ),
      })
    }
    writeFileSync(
      join(dir, '.changeset/minor-native.md'),
      "---\n'@bento/native': minor\n---\n\nA new field.\n"
    )
    const git = (...args: string[]) => execFileSync('git', args, { cwd: dir, stdio: 'pipe' })
    git('init', '-q')
    git('add', '-A')
    git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init')
    execFileSync(bin('changeset'), ['version'], { cwd: dir, stdio: 'pipe' })
    execFileSync(bin('napi'), ['version', '--npm-dir', 'npm'], {
      cwd: join(dir, 'native'),
      stdio: 'pipe',
    })
    const native = readJson(join(dir, 'native/package.json'))
    const platform = readJson(join(dir, 'native/npm/linux-x64-gnu/package.json'))
    expect(native.version).toBe('0.1.0')
    expect(platform.version).toBe(native.version)
    expect(readFileSync(join(dir, 'native/CHANGELOG.md'), 'utf8')).toContain('A new field.')
  })
})
