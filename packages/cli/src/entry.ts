// The entry as users give it: a file, a directory, or nothing (the current directory), as
// `bentoml serve .` takes them.
import { existsSync, readFileSync, statSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { CliError } from './errors.ts'

/** The files a directory's service is looked for in, in this order; then its package.json main. */
export const DEFAULT_ENTRIES = [
  'service.ts',
  'service.mts',
  'service.js',
  'service.mjs',
  'src/service.ts',
  'src/service.mts',
  'src/service.js',
  'src/service.mjs',
] as const

/**
 * The absolute path of the entry: `entry` itself when it is a file; for a directory (or no
 * `entry`: `cwd`), the first of `DEFAULT_ENTRIES` in it, else its package.json `main`.
 * @example
 * resolveEntry('examples/hello', process.cwd()) // '/repo/examples/hello/service.ts'
 */
export function resolveEntry(entry: string | undefined, cwd: string): string {
  const given = resolve(cwd, entry ?? '.')
  if (!existsSync(given)) {
    throw new CliError(
      `${entry} does not exist (looked at ${given})`,
      'give the service file, or the directory that holds it'
    )
  }
  if (statSync(given).isFile()) return given
  for (const candidate of DEFAULT_ENTRIES) {
    const file = join(given, candidate)
    if (existsSync(file) && statSync(file).isFile()) return file
  }
  const main = packageMain(given)
  if (main !== undefined && existsSync(main) && statSync(main).isFile()) return main
  const where = entry === undefined ? `the current directory (${given})` : given
  const mainNote =
    main === undefined
      ? 'a package.json with a "main"'
      : `package.json's main (${relative(given, main)}, which does not exist)`
  throw new CliError(
    `no service in ${where}: looked for ${DEFAULT_ENTRIES.join(', ')} and ${mainNote}`,
    'create service.ts exporting `export default service({ ... })`, or name the file: bento dev path/to/service.ts'
  )
}

function packageMain(dir: string): string | undefined {
  try {
    const { main } = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
      main?: unknown
    }
    return typeof main === 'string' ? resolve(dir, main) : undefined
  } catch {
    return undefined
  }
}
