// An image's entry reads `bento serve`'s flags without commander, and loads none of the toolchain
// the build leaves out of an image.
import { readFileSync } from 'node:fs'
import { build } from 'esbuild'
import { describe, expect, it } from 'vitest'
import { type CliIo, main } from './cli.ts'
import { CliError } from './errors.ts'
import { imageArgs } from './image-args.ts'

const manifest = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as {
  dependencies: Record<string, string>
  bento: { toolchain: string[] }
}

async function serveHelp(): Promise<string> {
  let out = ''
  const io: CliIo = { cwd: process.cwd(), env: {}, out: (t) => (out += `${t}\n`), err: () => {} }
  expect(await main(['node', 'bento', 'serve', '--help'], io)).toBe(0)
  return out
}

describe('imageArgs', () => {
  it('takes every flag `bento serve` takes', async () => {
    const flags = [...(await serveHelp()).matchAll(/--([a-z][a-z-]+)/g)].map((m) => m[1]!)
    expect(flags).toContain('service')
    for (const flag of new Set(flags)) {
      if (flag === 'help') continue
      const value = flag === 'no-access-log' || flag === 'verbose' ? [] : ['a=1']
      const args = ['/app/entry.mjs', `--${flag}`, ...value]
      try {
        imageArgs(args, {})
      } catch (error) {
        // A value the flag refuses is fine here; a flag it does not know is not.
        expect((error as Error).message, flag).not.toMatch(/Unknown option/)
      }
    }
  })

  it('reads the entry and the flags as `bento serve` does, defaults from $PORT and $HOST', () => {
    const read = imageArgs(
      [
        '/app/bento-entry.mjs',
        '--service',
        'search',
        '--log-format',
        'json',
        '--no-access-log',
        '--depends',
        'a=http://a:3000,b=http://b:3000',
        '--depends',
        'c=http://c:3000',
        '-w',
        '2',
      ],
      { PORT: '8080', HOST: '127.0.0.1' }
    )
    expect(read.entry).toBe('/app/bento-entry.mjs')
    expect(read.options).toEqual({
      port: 8080,
      host: '127.0.0.1',
      workers: 2,
      logFormat: 'json',
      accessLog: false,
      service: 'search',
      depends: { a: 'http://a:3000', b: 'http://b:3000', c: 'http://c:3000' },
    })
    const plain = imageArgs([], {}).options
    expect([plain.port, plain.host, plain.logFormat, plain.accessLog]).toEqual([
      3000,
      '0.0.0.0',
      'pretty',
      true,
    ])
  })

  it('names the flag and the fix for a bad value or an unknown flag', () => {
    expect(() => imageArgs([], { PORT: 'http' })).toThrow(/\$PORT must be a port number/)
    expect(() => imageArgs(['--port', '99999'], {})).toThrow(/--port must be a port number/)
    expect(() => imageArgs(['--bogus'], {})).toThrow(CliError)
    expect(() => imageArgs(['--bogus'], {})).toThrow(/Unknown option '--bogus'.*Fix: pass/)
  })
})

describe("bento's toolchain", () => {
  it('is imported by nothing an image runs, and names only dependencies the runtime does not use', async () => {
    const result = await build({
      entryPoints: ['image.ts', 'worker.ts', 'index.ts', 'client.ts'].map(
        (file) => new URL(file, import.meta.url).pathname
      ),
      bundle: true,
      write: false,
      outdir: '/nowhere',
      platform: 'node',
      format: 'esm',
      packages: 'external',
      metafile: true,
      logLevel: 'silent',
    })
    const packageOf = (path: string) =>
      path.startsWith('@') ? path.split('/').slice(0, 2).join('/') : path.split('/')[0]!
    const imported = new Map<string, Set<string>>()
    for (const input of Object.values(result.metafile.inputs)) {
      for (const { path, kind, external } of input.imports) {
        if (!external || path.startsWith('node:')) continue
        const kinds = imported.get(packageOf(path)) ?? new Set()
        imported.set(packageOf(path), kinds.add(kind))
      }
    }
    const toolchain = manifest.bento.toolchain
    for (const name of toolchain) expect(imported.get(name)?.has('import-statement')).not.toBe(true)
    // Loaded on demand for a TypeScript entry on Node only; an image's entry is the JavaScript
    // the build compiled (bento-entry.mjs).
    const onDemand = [...imported].filter(([name]) => toolchain.includes(name))
    expect(onDemand.map(([name, kinds]) => [name, [...kinds]]).sort()).toEqual([
      ['esbuild', ['dynamic-import']],
      ['tsx', ['dynamic-import']],
    ])
    // Every other dependency is one the runtime imports, or needs through another package: the
    // toolchain list is complete.
    const through = {
      '@bento/native': 'only `bento info` imports it here; @bento/core loads it in every worker',
      hono: "@bento/hono's peer dependency, which bento provides",
    }
    for (const name of Object.keys(manifest.dependencies)) {
      if (toolchain.includes(name) || name in through) continue
      expect(imported.has(name), name).toBe(true)
    }
  })
})
