// Importing the user's entry. TypeScript on Node 20 goes through tsx (registered on demand, so
// plain JavaScript projects pay nothing) unless the supervisor compiled it (compile.ts); Bun and
// Deno run it natively.
import { extname } from 'node:path'
import { pathToFileURL } from 'node:url'
import { runtimeName } from '@bento/core/adapter'
import { resolveBentoFromHere } from './self.ts'

const TYPESCRIPT = new Set(['.ts', '.mts', '.cts', '.tsx'])

/**
 * Imports a module; on Node a TypeScript one goes through tsx (which also handles `.ts` files
 * outside a `"type": "module"` package), on Bun and Deno natively. `source`, the file the user
 * named, decides whether `bento` must be resolved from the CLI's own installation.
 * @example
 * const module = await importModule('/app/service.ts')
 */
export async function importModule(file: string, source = file): Promise<Record<string, unknown>> {
  resolveBentoFromHere(source)
  if (runtimeName() === 'node' && TYPESCRIPT.has(extname(file))) {
    const { tsImport } = await import('tsx/esm/api')
    return tsImport(pathToFileURL(file).href, import.meta.url)
  }
  return import(pathToFileURL(file).href)
}
