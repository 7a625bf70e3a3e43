import { existsSync, statSync } from 'node:fs'
import { resolve } from 'node:path'
import { CliError } from './errors.ts'

/** Where `bento dev` and `bento serve` look for a service when no file is named, in this order. */
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
 * The absolute path of the service file: the one given, else the first of `DEFAULT_ENTRIES` in
 * `cwd`.
 * @example
 * resolveEntry(undefined, process.cwd()) // '/app/service.ts'
 */
export function resolveEntry(entry: string | undefined, cwd: string): string {
  if (entry !== undefined) {
    const file = resolve(cwd, entry)
    if (!existsSync(file)) {
      throw new CliError(
        `${entry} does not exist (looked at ${file})`,
        'check the path of your service file'
      )
    }
    if (!statSync(file).isFile()) {
      throw new CliError(
        `${entry} is not a file`,
        'name the service file itself, e.g. bento dev src/service.ts'
      )
    }
    return file
  }
  for (const candidate of DEFAULT_ENTRIES) {
    const file = resolve(cwd, candidate)
    if (existsSync(file)) return file
  }
  throw new CliError(
    `no service file found in ${cwd} (looked for ${DEFAULT_ENTRIES.join(', ')})`,
    'create service.ts exporting `export default service({ ... })`, or name the file: bento dev path/to/service.ts'
  )
}
