// The addon's platform package with its binary, as `pnpm release` lays it out (`napi artifacts`
// copies the binary built in native/ into native/npm/<platform>/), but in a temporary copy: the
// publish tests run in parallel, and two of them writing the binary into the repository at once
// would let one pack a half-written file.
import { execFileSync } from 'node:child_process'
import { cpSync, mkdtempSync, readdirSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { repoRoot } from './bento.ts'

/**
 * Runs `napi artifacts` in a temporary copy of native/ and returns the platform package's folder
 * there (`…/npm/linux-x64-gnu`), the binary inside. The caller removes `dir` when done.
 * @example
 * const { dir, platform } = stagePlatformPackage()
 */
export function stagePlatformPackage(): { dir: string; platform: string } {
  const native = join(repoRoot, 'native')
  const dir = mkdtempSync(join(tmpdir(), 'bento-native-'))
  cpSync(join(native, 'package.json'), join(dir, 'package.json'))
  cpSync(join(native, 'npm'), join(dir, 'npm'), { recursive: true })
  for (const file of readdirSync(native)) {
    if (file.endsWith('.node')) cpSync(join(native, file), join(dir, file))
  }
  execFileSync(
    join(repoRoot, 'node_modules/.bin/napi'),
    ['artifacts', '--output-dir', '.', '--npm-dir', 'npm'],
    { cwd: dir, stdio: 'pipe' }
  )
  return { dir, platform: join(dir, 'npm/linux-x64-gnu') }
}
