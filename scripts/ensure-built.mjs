// For the test projects' global setups: builds a package's dist/ with its own tsc config only when
// dist/ is missing or older than a source file. `npm test` has just built every package through
// turbo, so there this does nothing; a bare `vitest run --project core` after an edit rebuilds.
// Never rebuilding unasked matters beyond speed: the suite's files run in parallel, and a tsc
// rewriting dist/ under a test that is spawning a worker from it would break that test.
import { execFileSync } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

function newest(dir) {
  let latest = 0
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    // Tests are not built into dist/, so editing one needs no rebuild.
    if (entry.name.endsWith('.test.ts')) continue
    const time = entry.isDirectory() ? newest(path) : statSync(path).mtimeMs
    if (time > latest) latest = time
  }
  return latest
}

/**
 * Runs `tsc -p tsconfig.build.json` in `packageDir` unless `dist/index.js` is newer than every
 * file under `sources` (folders relative to the package).
 * @param {string} packageDir
 * @param {string[]} sources
 */
export function ensureBuilt(packageDir, sources) {
  const output = join(packageDir, 'dist/index.js')
  if (existsSync(output)) {
    const built = statSync(output).mtimeMs
    const changed = sources.some((dir) => {
      const path = join(packageDir, dir)
      return existsSync(path) && newest(path) > built
    })
    if (!changed) return
  }
  const tsc = createRequire(join(packageDir, 'package.json')).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: packageDir,
    stdio: 'inherit',
  })
}
