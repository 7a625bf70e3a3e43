// On Node 20, TypeScript runs through tsx's off-thread module hooks, and once any hook is
// registered every module a process imports crosses to the hooks thread and back: a worker of the
// hello example took 1.3 s to start that way. So on Node a TypeScript entry is compiled once, in
// the supervisor, with esbuild (the compiler tsx itself uses), into one ES module under the
// project's own node_modules/.cache/bento, where its bare imports resolve exactly as they do
// from the source. Every worker then imports plain JavaScript with no hooks (0.45 s), and a
// restart, reload or memory recycle costs that much less. `import.meta.url`, `.dirname` and
// `.filename` keep naming each source file (a model next to the code still loads), and an inline
// source map keeps stack traces on the .ts lines. Bun and Deno run TypeScript natively, and an
// entry with no node_modules above it (`npx bento` in an empty directory) is left to tsx.
import { createHash } from 'node:crypto'
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs'
import { isBuiltin } from 'node:module'
import { basename, dirname, extname, join } from 'node:path'
import { pathToFileURL } from 'node:url'
import type { BuildContext, BuildResult, Plugin } from 'esbuild'
import { CliError } from './errors.ts'

/** A compiled entry: the module workers import, and how to bring it up to date. */
export interface CompiledEntry {
  /** The compiled ES module. */
  readonly file: string
  /**
   * A module beside it that imports, in order, the packages the compiled module imports: what a
   * warm standby loads ahead (serve()'s `standby.preload`). Rewritten by every build.
   */
  readonly preload: string
  /** Compiles again from the current sources; rejects with the compiler's errors. */
  rebuild(): Promise<void>
  dispose(): Promise<void>
}

const TYPESCRIPT = /\.(ts|mts|cts|tsx)$/
const SOURCE = /\.(ts|mts|cts|tsx|js|mjs|cjs|jsx)$/

/**
 * Compiles `entry` for Node workers when that helps (a TypeScript entry with a node_modules
 * directory above it); `undefined` when workers should import the source itself.
 * @example
 * const compiled = await compileEntry('/app/service.ts')
 * const workerEntry = compiled?.file ?? '/app/service.ts'
 */
export async function compileEntry(entry: string): Promise<CompiledEntry | undefined> {
  if (!TYPESCRIPT.test(entry)) return undefined
  const modules = nearestNodeModules(dirname(entry))
  if (modules === undefined) return undefined
  const { context } = await import('esbuild')
  const hash = createHash('sha256').update(entry).digest('hex').slice(0, 12)
  const file = join(modules, '.cache', 'bento', `${basename(entry, extname(entry))}-${hash}.mjs`)
  const built: BuildContext = await context({
    entryPoints: [entry],
    outfile: file,
    bundle: true,
    // Dependencies stay imports, resolved at run time from the project's node_modules as the
    // source would resolve them: one copy of each package, native addons included.
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [keepImportMeta],
    metafile: true,
  })
  const preload = file.replace(/\.mjs$/, '.preload.mjs')
  try {
    writePreload(preload, await built.rebuild())
  } catch (error) {
    await built.dispose()
    throw compileError(entry, error)
  }
  return {
    file,
    preload,
    rebuild: async () => {
      try {
        writePreload(preload, await built.rebuild())
      } catch (error) {
        throw compileError(entry, error)
      }
    },
    dispose: async () => {
      await built.dispose()
      // esbuild keeps one compiler process for every context; with none left it can go.
      const { stop } = await import('esbuild')
      await stop()
    },
  }
}

// The bundle's imports of packages come first in it and in this order, before any of the
// project's own code runs: a module importing them alone runs the same code, only earlier.
function writePreload(path: string, result: BuildResult): void {
  const outputs = Object.values(result.metafile?.outputs ?? {})
  const packages = outputs
    .flatMap((output) => output.imports)
    .filter((i) => i.external && i.kind === 'import-statement' && !isBuiltin(i.path))
    .map((i) => i.path)
  const text = [...new Set(packages)].map((name) => `import ${JSON.stringify(name)}\n`).join('')
  const existing = existsSync(path) ? readFileSync(path, 'utf8') : undefined
  if (existing !== text) writeFileSync(path, text)
}

function nearestNodeModules(from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules')
    if (existsSync(candidate) && statSync(candidate).isDirectory()) return candidate
    if (dirname(dir) === dir) return undefined
  }
}

/** The JavaScript expressions that stand for one source file's `import.meta` values in a bundle. */
export interface ImportMetaValues {
  url: string
  dirname: string
  filename: string
}

/**
 * An esbuild plugin that writes each local source file's `import.meta.url`, `.dirname` and
 * `.filename` as `values(file)` says: bundled, every file would otherwise see the bundle's own.
 * @example
 * const plugin = importMetaPlugin((file) => ({ url: JSON.stringify(pathToFileURL(file).href), ... }))
 */
export function importMetaPlugin(values: (file: string) => ImportMetaValues): Plugin {
  return {
    name: 'bento-import-meta',
    setup(build) {
      build.onLoad({ filter: SOURCE }, (args) => {
        if (args.path.includes('/node_modules/')) return undefined
        const source = readFileSync(args.path, 'utf8')
        if (!source.includes('import.meta')) return undefined
        const { url, dirname: dir, filename } = values(args.path)
        const contents = source
          .replace(/\bimport\.meta\.url\b/g, url)
          .replace(/\bimport\.meta\.dirname\b/g, dir)
          .replace(/\bimport\.meta\.filename\b/g, filename)
        return { contents, loader: loaderFor(args.path), resolveDir: dirname(args.path) }
      })
    },
  }
}

// For `bento dev` and `serve`: the source files' own places, as literals.
const keepImportMeta = importMetaPlugin((file) => ({
  url: JSON.stringify(pathToFileURL(file).href),
  dirname: JSON.stringify(dirname(file)),
  filename: JSON.stringify(file),
}))

function loaderFor(path: string): 'ts' | 'tsx' | 'js' | 'jsx' {
  const ext = extname(path)
  if (ext === '.tsx') return 'tsx'
  if (ext === '.jsx') return 'jsx'
  return TYPESCRIPT.test(path) ? 'ts' : 'js'
}

function compileError(entry: string, error: unknown): CliError {
  const errors = (
    error as {
      errors?: Array<{ text: string; location?: { file: string; line: number; column: number } }>
    }
  ).errors
  const first = errors?.[0]
  const where = first?.location
    ? ` (${first.location.file}:${first.location.line}:${first.location.column})`
    : ''
  const message = first
    ? `${first.text}${where}`
    : error instanceof Error
      ? error.message
      : String(error)
  const failure = new CliError(
    `could not load ${entry}: ${message}`,
    'fix the error in your service file'
  )
  failure.cause = error
  return failure
}
