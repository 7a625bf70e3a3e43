// The production dependencies of a build, laid out as one node_modules tree that Node, Bun and
// Deno resolve as they would the project's own: every package the project's code imports at run
// time (`dependencies`, installed `optionalDependencies` and `peerDependencies`), recursively,
// found from each package's real location (pnpm's links followed), placed at the top when the
// name is free there and nested under the package that needs another version otherwise.
import { cpSync, existsSync, readFileSync, realpathSync, writeFileSync } from 'node:fs'
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path'
import { globSync } from 'tinyglobby'
import { CliError } from '../errors.ts'
import { DOT_FILE, ignoreRules } from './ignore-files.ts'
import type { LeftOut } from './sources.ts'

/** One package copied into the build. */
export interface CopiedPackage {
  name: string
  version: string
  /** Where it was copied to, relative to the build's app folder. */
  path: string
}

interface Manifest {
  name?: string
  version?: string
  files?: string[]
  dependencies?: Record<string, string>
  optionalDependencies?: Record<string, string>
  peerDependencies?: Record<string, string>
  peerDependenciesMeta?: Record<string, { optional?: boolean }>
  napi?: { binaryName?: string }
  /** `bento.toolchain`: dependencies only the package's commands use, which no image runs. */
  bento?: { toolchain?: string[] }
}

// Prebuilt binaries for other systems are left out (onnxruntime-node ships 288 MB for five
// platforms, 45 MB of it for linux-x64): the image is linux-x64.
const FOREIGN = new Set(['darwin', 'win32', 'win', 'windows', 'freebsd', 'openbsd', 'android'])
const FOREIGN_PREFIX =
  /^(darwin|win32|freebsd|openbsd|android|linux-(arm|ia32|ppc|s390|riscv|loong)|linuxmusl)/

// What nothing runs: type declarations, source maps and documents, for editors and readers (two
// thirds of the files an install holds; OpenTelemetry ships three builds, each with maps and
// declarations). Licence texts stay, whatever their extension.
const NOT_RUN = /\.(d\.[cm]?ts|[cm]?[jt]s\.map|css\.map|md|markdown)$/i
const LICENCE = /^(licen[cs]e|notice|copying)/i

// Whether a file or folder of a dependency belongs in an image: not what NOT_RUN names, and no
// dot-file, which is for the package's authors (`.git`, `.npmrc`, `.env`: possibly secret).
function runTimeFile(name: string): boolean {
  if (name.startsWith('.')) return false
  return !NOT_RUN.test(name) || LICENCE.test(name)
}

/**
 * Copies the production dependencies of `roots` (package folders) into `app/node_modules`, and
 * returns what was copied; what a workspace or `file:` package's ignore file or a dot-file kept out
 * is added to `leftOut`. What a package's `bento.toolchain` names (the CLI's compiler, watcher and
 * argument parser) is not followed: an image runs none of it.
 * @example
 * const copied = copyDependencies(['/repo/examples/hello'], '/tmp/build/app')
 */
export function copyDependencies(
  roots: string[],
  app: string,
  leftOut: LeftOut[] = []
): CopiedPackage[] {
  const top = join(app, 'node_modules')
  // Where each output folder's package came from, to resolve as Node would: nearest first.
  const placed = new Map<string, string>()
  const copied: CopiedPackage[] = []
  type Work = { from: string; at: string; manifest: Manifest }
  const queue: Work[] = roots.map((root) => ({ from: root, at: app, manifest: read(root) }))
  while (queue.length > 0) {
    const { from, at, manifest } = queue.shift()!
    const wanted: [string, boolean][] = [
      ...Object.keys(manifest.dependencies ?? {}).map((n): [string, boolean] => [n, true]),
      ...Object.keys(manifest.optionalDependencies ?? {}).map((n): [string, boolean] => [n, false]),
      // An optional peer is the user's choice (typescript for some schema libraries): left out.
      ...Object.keys(manifest.peerDependencies ?? {})
        .filter((n) => manifest.peerDependenciesMeta?.[n]?.optional !== true)
        .map((n): [string, boolean] => [n, false]),
    ]
    const toolchain = new Set(manifest.bento?.toolchain ?? [])
    for (const [name, required] of wanted) {
      if (toolchain.has(name)) continue
      const source = findPackage(name, from)
      if (source === undefined) {
        if (!required) continue
        throw new CliError(
          `${manifest.name ?? from} depends on ${name}, which is not installed (looked from ${from})`,
          'install the project first (npm install, pnpm install or bun install), then build'
        )
      }
      const seen = resolveIn(name, at, app, placed)
      if (seen === source) continue
      const target = seen === undefined ? join(top, name) : join(at, 'node_modules', name)
      placed.set(target, source)
      const pkg = read(source)
      copyPackage(source, target, pkg, (path, reason) =>
        leftOut.push({ path: relative(app, join(target, relative(source, path))), reason })
      )
      copied.push({ name, version: pkg.version ?? '0.0.0', path: relative(app, target) })
      queue.push({ from: source, at: target, manifest: pkg })
    }
  }
  return copied
}

// A range that names a place on this machine rather than a version.
const LOCAL_RANGE = /^(workspace|file|link|portal):/

/**
 * Rewrites the `package.json` of each source package copied into `app` (`packages`, relative to
 * it) to name what the image holds: a `workspace:`, `file:` or `link:` range becomes the version
 * copied, and `devDependencies`, which the image does not have, go.
 * @example
 * pinManifests('/tmp/build/app', ['.'], copyDependencies(roots, '/tmp/build/app'))
 */
export function pinManifests(app: string, packages: string[], copied: CopiedPackage[]): void {
  const versions = new Map(
    copied
      .filter((p) => p.path === join('node_modules', p.name))
      .map((p): [string, string] => [p.name, p.version])
  )
  for (const dir of packages) {
    const file = join(app, dir, 'package.json')
    if (!existsSync(file)) continue
    const manifest = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>
    for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
      const ranges = manifest[field] as Record<string, string> | undefined
      for (const [name, range] of Object.entries(ranges ?? {})) {
        const version = versions.get(name)
        if (LOCAL_RANGE.test(range) && version !== undefined) ranges![name] = version
      }
    }
    delete manifest.devDependencies
    writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`)
  }
}

// The package Node would load for `name` from the output folder `at`, among those placed so far.
function resolveIn(
  name: string,
  at: string,
  app: string,
  placed: Map<string, string>
): string | undefined {
  for (let dir = at; ; dir = dirname(dir)) {
    const hit = placed.get(join(dir, 'node_modules', name))
    if (hit !== undefined) return hit
    if (dir === app || dirname(dir) === dir) return undefined
  }
}

function findPackage(name: string, from: string): string | undefined {
  for (let dir = from; ; dir = dirname(dir)) {
    const candidate = join(dir, 'node_modules', name)
    if (existsSync(join(candidate, 'package.json'))) return realpathSync(candidate)
    if (dirname(dir) === dir) return undefined
  }
}

function read(dir: string): Manifest {
  return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest
}

// An installed package is copied whole (less its own node_modules, other systems' binaries and
// what `runTimeFile` leaves out). A workspace or `file:` package (not under a node_modules) is
// copied as `npm pack` lays it out: with `files`, its package.json, licence, Node-API binary for
// linux-x64 and what the entries name (globs too; one outside the package is refused); without,
// the folder less what its .npmignore, else its .gitignore, lists. Dot-files never.
function copyPackage(
  source: string,
  target: string,
  pkg: Manifest,
  left: (path: string, reason: string) => void
): void {
  const installed = source.split(sep).includes('node_modules')
  const rules = installed ? undefined : ignoreRules(source, ['.npmignore', '.gitignore'])
  const filter = (path: string) => {
    const rel = relative(source, path)
    if (rel === '') return true
    const parts = rel.split(sep)
    if (parts[0] === 'node_modules') return false
    const name = basename(path)
    if (!installed && name.startsWith('.')) {
      left(path, DOT_FILE)
      return false
    }
    if (!runTimeFile(name)) return false
    if (FOREIGN.has(name) || FOREIGN_PREFIX.test(name)) return false
    const parent = parts.at(-2)
    if (parent === 'linux' && ['arm64', 'arm', 'ia32', 'ppc64', 's390x'].includes(name))
      return false
    // With `files`, the entries decide; the ignore file applies to a package without them.
    const reason = pkg.files === undefined ? rules?.(path) : undefined
    if (reason !== undefined) left(path, reason)
    return reason === undefined
  }
  if (installed || pkg.files === undefined) {
    cpSync(source, target, { recursive: true, dereference: true, filter })
    return
  }
  cpSync(join(source, 'package.json'), join(target, 'package.json'))
  const extra = ['LICENSE', 'LICENSE.md', 'LICENCE']
  if (pkg.napi?.binaryName) extra.push(`${pkg.napi.binaryName}.linux-x64-gnu.node`)
  const entries = new Set<string>()
  for (const entry of pkg.files) {
    const inside = relative(source, resolve(source, entry))
    if (isAbsolute(entry) || inside.startsWith('..')) {
      throw new CliError(
        `${pkg.name ?? source}'s "files" entry ${JSON.stringify(entry)} is outside the package`,
        'list only paths inside the package folder in its "files"'
      )
    }
    if (/[*?[\]{}!]/.test(entry)) {
      for (const match of globSync(entry, {
        cwd: source,
        onlyFiles: false,
        expandDirectories: false,
      }))
        entries.add(match)
    } else entries.add(entry)
  }
  for (const entry of [...entries, ...extra]) {
    const from = join(source, entry)
    if (existsSync(from) && filter(from))
      cpSync(from, join(target, entry), { recursive: true, dereference: true, filter })
  }
}
