// The service's own code in a build: every package folder its entry's code comes from, copied
// whole (a model file next to the code comes along), and the entry compiled ahead of time into
// one ES module, so that nothing is compiled, installed or downloaded when the container starts.
import { cpSync, existsSync, mkdirSync, readdirSync, realpathSync } from 'node:fs'
import { basename, dirname, join, relative, resolve, sep } from 'node:path'
import type { Metafile, Plugin } from 'esbuild'
import { importMetaPlugin } from '../compile.ts'
import { CliError } from '../errors.ts'
import { DOT_FILE, ignoreRules } from './ignore-files.ts'

/** The entry as the image runs it. */
export interface BuiltSources {
  /** The compiled entry, relative to the app folder. */
  entry: string
  /** The package folders copied, relative to the app folder (`.` for the entry's own). */
  packages: string[]
  /** Their folders on this machine, to find their dependencies from. */
  roots: string[]
  /** What was not copied from them, and why. */
  leftOut: LeftOut[]
}

/** A file or folder a build did not copy, relative to the app folder, and why. */
export interface LeftOut {
  path: string
  reason: string
}

const SKIPPED = new Set(['node_modules', 'coverage', 'dist-bento'])

/** The file name of the compiled entry in the app folder. */
export const ENTRY_FILE = 'bento-entry.mjs'

/**
 * Copies the code of `entry` into `app` and compiles the entry beside it for `target` (an esbuild
 * target such as `node20`); `exclude` is a folder never copied (the build's own output).
 * @example
 * const { entry } = await copySources('/repo/examples/hello/service.ts', '/tmp/out/app', '/tmp/out')
 */
export async function copySources(
  entryPath: string,
  app: string,
  exclude: string,
  target = 'node20'
): Promise<BuiltSources> {
  // Links resolved (a project under a linked folder; macOS's /tmp): esbuild names the files it
  // reads by their real paths, and every folder is compared in that one form.
  const entry = realpathSync(entryPath)
  const { build } = await import('esbuild')
  const outfile = join(app, ENTRY_FILE)
  // First pass: which local files the entry imports; they decide which folders are copied.
  const probe = await build({
    entryPoints: [entry],
    bundle: true,
    write: false,
    metafile: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    logLevel: 'silent',
  }).catch((error: unknown) => {
    throw compileError(entry, error)
  })
  const roots = packageRoots(entry, probe.metafile)
  const base = commonAncestor(roots)
  const leftOut: LeftOut[] = []
  const excluded = existsSync(exclude) ? realpathSync(exclude) : resolve(exclude)
  for (const root of roots) {
    const to = join(app, relative(base, root))
    const rules = ignoreRules(root, ['.dockerignore', '.gitignore'])
    const copied = (path: string) => {
      const name = basename(path)
      if (SKIPPED.has(name) || path === excluded) return false
      const reason = name.startsWith('.') ? DOT_FILE : rules?.(path)
      if (reason === undefined) return true
      leftOut.push({ path: relative(app, join(to, relative(root, path))), reason })
      return false
    }
    copyTree(root, to, excluded, copied)
  }
  await build({
    entryPoints: [entry],
    outfile,
    bundle: true,
    packages: 'external',
    format: 'esm',
    platform: 'node',
    target,
    sourcemap: 'inline',
    logLevel: 'silent',
    plugins: [importMetaIn(base)],
  }).catch((error: unknown) => {
    throw compileError(entry, error)
  })
  return {
    entry: ENTRY_FILE,
    packages: roots.map((root) => relative(base, root) || '.'),
    roots,
    leftOut,
  }
}

// Copies a package folder but for what `copied` refuses. A folder holding `exclude` (`bento build
// --out build` inside the project) is walked rather than copied whole, as cpSync refuses to copy a
// folder into itself before any filter is asked.
function copyTree(
  from: string,
  to: string,
  exclude: string,
  copied: (path: string) => boolean
): void {
  mkdirSync(to, { recursive: true })
  for (const entry of readdirSync(from, { withFileTypes: true })) {
    const path = join(from, entry.name)
    if (!copied(path)) continue
    if (entry.isDirectory() && exclude.startsWith(path + sep)) {
      copyTree(path, join(to, entry.name), exclude, copied)
    } else {
      cpSync(path, join(to, entry.name), { recursive: true, filter: copied })
    }
  }
}

// The package folder (nearest package.json) of the entry and of every local file it imports.
function packageRoots(entry: string, metafile: Metafile): string[] {
  const roots = new Set<string>([packageRoot(entry)])
  for (const input of Object.keys(metafile.inputs)) {
    if (input.includes('node_modules/')) continue
    roots.add(packageRoot(resolve(input)))
  }
  return [...roots]
}

function packageRoot(file: string): string {
  for (let dir = dirname(file); ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json'))) return dir
    if (dirname(dir) === dir) {
      throw new CliError(
        `${file} is in no package (no package.json above it)`,
        'run npm init in the project folder, so that its dependencies are known'
      )
    }
  }
}

function commonAncestor(dirs: string[]): string {
  let common = dirs[0]!.split(sep)
  for (const dir of dirs.slice(1)) {
    const parts = dir.split(sep)
    let i = 0
    while (i < common.length && common[i] === parts[i]) i++
    common = common.slice(0, i)
  }
  return common.join(sep) || sep
}

// Each source file's import.meta values are its copy's place relative to the bundle, so they hold
// wherever the image puts the app.
function importMetaIn(base: string): Plugin {
  return importMetaPlugin((file) => {
    const url = `new URL(${JSON.stringify(`./${relative(base, file).split(sep).join('/')}`)}, import.meta.url)`
    const path = `decodeURIComponent(${url}.pathname)`
    return { url: `${url}.href`, filename: path, dirname: `${path}.replace(/\\/[^/]*$/, '')` }
  })
}

function compileError(entry: string, error: unknown): CliError {
  const first = (error as { errors?: Array<{ text: string }> }).errors?.[0]
  const failure = new CliError(
    `could not compile ${entry}: ${first?.text ?? (error instanceof Error ? error.message : String(error))}`,
    'fix the error in your service file; bento dev shows it with its place'
  )
  failure.cause = error
  return failure
}
