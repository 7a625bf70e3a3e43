// The Bun and Deno executables (test/support/runtimes.ts), and where this package's spawned
// runtimes run.
import { fileURLToPath } from 'node:url'

export { binaries } from '../../../test/support/runtimes.ts'

/** This package's directory, where the spawned runtimes run. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url))
