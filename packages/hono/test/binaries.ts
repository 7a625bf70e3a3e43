// The Bun and Deno executables themselves. The node_modules/.bin entries are shell shims that do
// not `exec`, so killing one would leave the runtime running; tests spawn these instead.
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../../', import.meta.url))

/** The repository's pinned Bun (npm `bun`) and Deno (npm `deno`) binaries. */
export const binaries = {
  bun: join(root, 'node_modules/bun/bin/bun.exe'),
  deno: join(root, 'node_modules/deno/deno'),
} as const

/** This package's directory, where the spawned runtimes run. */
export const packageDir = fileURLToPath(new URL('..', import.meta.url))
