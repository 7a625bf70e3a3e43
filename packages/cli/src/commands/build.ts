import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs'
import { basename, dirname, extname, join, relative, resolve } from 'node:path'
import { DEFAULTS } from '@bento/core'
import { describeExport, findExport, layoutGraph } from '@bento/core/serve'
import { stringify } from 'yaml'
import { type BuildRuntime, containerfile } from '../build/containerfile.ts'
import { type CopiedPackage, copyDependencies, pinManifests } from '../build/dependencies.ts'
import { kubeName, manifests } from '../build/manifests.ts'
import { copySources, type LeftOut } from '../build/sources.ts'
import { resolveEntry } from '../entry.ts'
import { CliError } from '../errors.ts'
import { importModule } from '../load.ts'

/** `bento build`'s flags. */
export interface BuildOptions {
  /** The folder to write the build context to. */
  out: string
  /** The image the manifests run (`name:tag`); default `<app>:latest`. */
  image: string | undefined
  /** The image to build on, over the runtime's official one. */
  base: string | undefined
  runtime: BuildRuntime
  autoscale: 'hpa' | 'keda' | 'none'
  /** Where KEDA's Prometheus trigger reads from. */
  prometheus: string
  /** The port each pod serves on; default 3000. */
  port: number | undefined
  json: boolean
}

/** What `bento build` wrote. */
export interface BuildResult {
  out: string
  image: string
  runtime: BuildRuntime
  base: string | undefined
  /** The compiled entry, relative to the app folder. */
  entry: string
  containerfile: string
  /** The package folders of the service's own code, relative to the app folder. */
  sources: string[]
  dependencies: CopiedPackage[]
  /**
   * What was not copied from the service's folders and its workspace or `file:` packages (ignore
   * files, dot-files), and why.
   */
  leftOut: LeftOut[]
  /** Every service deployed, with its manifest file and the kinds in it. */
  services: { name: string; file: string; kinds: string[] }[]
  kustomization: string
  /**
   * The Secret the pods read their secret variables from (`auth.bearer: env(…)`,
   * `deploy.secretEnvs`), and the keys it must hold: the build never writes it.
   */
  secret: { name: string; keys: string[] } | undefined
  warnings: string[]
}

// Marks a folder as a build's, so that building again may empty it and nothing else is lost.
const MARKER = '.bento-build'

/**
 * `bento build [entry] --out DIR`: a self-contained build context (the service's code and its
 * production dependencies in `app/`, a `Containerfile`) and Kubernetes manifests in `k8s/`, one
 * set per service of the graph. The entry is loaded first, so a bad definition writes nothing.
 * @example
 * await build('examples/hello', { out: 'build', runtime: 'node', ... }, process.cwd(), console.log)
 */
export async function build(
  entryArg: string | undefined,
  options: BuildOptions,
  cwd: string,
  print: (text: string) => void
): Promise<BuildResult> {
  const file = resolveEntry(entryArg, cwd)
  const description = describeExport(findExport(await importModule(file), file))
  const layout = layoutGraph(description)
  const appName =
    layout.entry.kind === 'service' ? layout.entry.services[0]!.name : packageName(file)
  const image = options.image ?? `${kubeName(appName)}:latest`
  const out = resolve(cwd, options.out)
  emptyOut(out, options.out)
  // Marked before anything is copied: a build that fails halfway can be run again into it.
  writeFileSync(join(out, MARKER), '')
  const app = join(out, 'app')
  const target = options.runtime === 'node' ? 'node20' : 'esnext'
  const sources = await copySources(file, app, out, target)
  const leftOut = [...sources.leftOut]
  const dependencies = copyDependencies(sources.roots, app, leftOut)
  pinManifests(app, sources.packages, dependencies)
  if (!dependencies.some((d) => d.path === join('node_modules', 'bento'))) {
    throw new CliError(
      `${relative(cwd, file)}'s package does not depend on bento, which the image runs`,
      'add it to the dependencies: npm install bento'
    )
  }
  const gpu = [...layout.local, ...layout.entry.services].some(
    (s) => (s.settings.resources.gpu ?? 0) > 0
  )
  const text = containerfile({
    runtime: options.runtime,
    base: options.base,
    gpu,
    entry: sources.entry,
    port: options.port ?? DEFAULTS.listen.port,
  })
  writeFileSync(join(out, 'Containerfile'), text)
  // The manifests are not part of the image.
  writeFileSync(join(out, '.containerignore'), 'k8s\n')
  const written = manifests(layout, {
    image,
    port: options.port ?? DEFAULTS.listen.port,
    autoscale: options.autoscale,
    prometheus: options.prometheus,
    appName,
  })
  mkdirSync(join(out, 'k8s'))
  for (const { file: name, objects } of written.services) {
    writeFileSync(
      join(out, 'k8s', name),
      objects.map((o) => stringify(o, { aliasDuplicateObjects: false })).join('---\n')
    )
  }
  writeFileSync(join(out, 'k8s', 'kustomization.yaml'), stringify(written.kustomization))
  const result: BuildResult = {
    out,
    image,
    runtime: options.runtime,
    base: options.base,
    entry: sources.entry,
    containerfile: join(out, 'Containerfile'),
    sources: sources.packages,
    dependencies,
    leftOut,
    services: written.services.map((s) => ({
      name: s.service,
      file: join('k8s', s.file),
      kinds: s.objects.map((o) => o.kind),
    })),
    kustomization: join('k8s', 'kustomization.yaml'),
    secret: written.secret,
    warnings: written.warnings,
  }
  if (options.json) {
    print(JSON.stringify(result, null, 2))
    return result
  }
  const where = relative(cwd, out) || '.'
  print(
    `bento build: ${appName} into ${where}/ (${options.runtime}, ${dependencies.length} packages)`
  )
  print(
    `  Containerfile   ${gpu ? 'CUDA base, ' : ''}${options.base ?? 'official image'}, runs ${sources.entry}`
  )
  for (const s of result.services) print(`  ${s.file.padEnd(15)} ${s.name}: ${s.kinds.join(', ')}`)
  if (leftOut.length > 0) {
    const names = leftOut.slice(0, 6).map((l) => l.path)
    const more = leftOut.length > 6 ? `, and ${leftOut.length - 6} more` : ''
    print(`  left out        ${names.join(', ')}${more} (ignore files, dot-files; --json says why)`)
  }
  for (const warning of written.warnings) print(`warning ${warning}`)
  print(`\n  podman build -t ${image} ${where}   # or docker build`)
  if (written.secret !== undefined) {
    const { name, keys } = written.secret
    const literals = keys.map((key) => `--from-literal=${key}=...`).join(' ')
    print(`  kubectl create secret generic ${name} ${literals}   # once; values never in the build`)
  }
  print(`  kubectl apply -k ${where}/k8s`)
  return result
}

function emptyOut(out: string, given: string): void {
  if (!existsSync(out)) {
    mkdirSync(out, { recursive: true })
    return
  }
  if (!statSync(out).isDirectory()) {
    throw new CliError(`--out ${given} is a file`, 'give a folder for the build')
  }
  const entries = readdirSync(out)
  if (entries.length > 0 && !entries.includes(MARKER)) {
    throw new CliError(
      `--out ${given} holds files that are not an earlier bento build`,
      'give an empty or new folder (a build replaces what is in it)'
    )
  }
  for (const entry of entries) rmSync(join(out, entry), { recursive: true, force: true })
}

// An app entry is named after its package (without its scope), else its file.
function packageName(file: string): string {
  for (let dir = dirname(file); dirname(dir) !== dir; dir = dirname(dir)) {
    const manifest = join(dir, 'package.json')
    if (!existsSync(manifest)) continue
    const { name } = JSON.parse(readFileSync(manifest, 'utf8')) as { name?: string }
    if (typeof name === 'string') return name.replace(/^@[^/]+\//, '')
    break
  }
  return basename(file, extname(file))
}
