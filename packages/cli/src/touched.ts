// Which services of a graph a change touches, for `bento dev`: a service is touched when a changed
// file is the one that defined it (`service()`'s caller) or one that file imports, directly or not,
// read from esbuild's import graph of the entry (packages left out). A change anything else holds
// (a file no definition imports, a model read at run time, the entry's own file when it only
// composes) touches them all: reloading too much is only slower, too little would serve old code.
import { dirname, resolve } from 'node:path'

/** A service, by name, and the file that defined it when that is known. */
export interface DefinedService {
  name: string
  file?: string | undefined
}

/**
 * The names of the services that `changed` files touch; `undefined` when that is every one (or
 * can't be told: a service whose file is unknown, an entry that does not build).
 * @example
 * await touchedServices('/p/service.ts', [{ name: 'search', file: '/p/search.ts' }], ['/p/search.ts'])
 */
export async function touchedServices(
  entry: string,
  services: readonly DefinedService[],
  changed: readonly string[]
): Promise<Set<string> | undefined> {
  if (services.some((s) => s.file === undefined)) return undefined
  const imports = await importGraph(entry)
  if (imports === undefined) return undefined
  const touched = new Set<string>()
  const reached = new Set<string>()
  for (const service of services) {
    const closure = closureOf(service.file!, imports)
    for (const file of closure) reached.add(file)
    if (changed.some((file) => closure.has(file))) touched.add(service.name)
  }
  return changed.every((file) => reached.has(file)) ? touched : undefined
}

// Each local file of the entry's build and the local files it imports, by absolute path.
async function importGraph(entry: string): Promise<Map<string, string[]> | undefined> {
  const root = dirname(entry)
  try {
    // Loaded when a save needs it, as compile.ts loads it: not in `bento serve`'s process.
    const { build } = await import('esbuild')
    const { metafile } = await build({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      metafile: true,
      packages: 'external',
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
    })
    return new Map(
      Object.entries(metafile.inputs).map(([file, input]) => [
        resolve(root, file),
        input.imports.filter((i) => !i.external).map((i) => resolve(root, i.path)),
      ])
    )
  } catch {
    // A save that does not build: every service is reloaded, and that reload reports the error.
    return undefined
  }
}

function closureOf(file: string, imports: Map<string, string[]>): Set<string> {
  const seen = new Set<string>()
  const stack = [file]
  while (stack.length > 0) {
    const next = stack.pop()!
    if (seen.has(next)) continue
    seen.add(next)
    stack.push(...(imports.get(next) ?? []))
  }
  return seen
}
