#!/usr/bin/env node
// Checks what each public package would publish, as its users' tools will see it: publint (the
// package.json's fields and exports against the files packed) and Are The Types Wrong (every entry
// point's types resolve, and describe ES modules as ES modules). Part of `npm run lint`.
import { spawnSync } from 'node:child_process'
import { copyFileSync, existsSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const bin = (name) => join(root, 'node_modules', '.bin', name)
// Every package is ESM-only: CommonJS `require` (node16-cjs) and pre-exports resolution (node10)
// are not supported, by design.
const packages = [
  { dir: 'native', types: true },
  // The binary reaches this package only at release (`napi artifacts` copies it in), so it is
  // staged here from the local build for the check and removed after.
  { dir: 'native/npm/linux-x64-gnu', types: false, binary: 'bento-native.linux-x64-gnu.node' },
  { dir: 'packages/core', types: true },
  { dir: 'packages/hono', types: true },
  { dir: 'packages/cli', types: true },
]

let failed = 0
for (const { dir, types, binary } of packages) {
  const cwd = join(root, dir)
  let staged
  if (binary !== undefined && !existsSync(join(cwd, binary))) {
    const built = join(root, 'native', binary)
    if (!existsSync(built)) {
      failed++
      process.stdout.write(
        `${dir}: ${built} is missing; build it with \`pnpm --filter @bento/native build\`\n`
      )
      continue
    }
    staged = join(cwd, binary)
    copyFileSync(built, staged)
  }
  const checks = [[bin('publint'), ['--strict']]]
  if (types)
    checks.push([bin('attw'), ['--pack', '.', '--profile', 'esm-only', '--format', 'ascii']])
  for (const [command, args] of checks) {
    const result = spawnSync(command, args, { cwd, encoding: 'utf8' })
    const name = command.split('/').pop()
    if (result.status !== 0) {
      failed++
      process.stdout.write(`${name} ${dir}: problems\n${result.stdout}${result.stderr}\n`)
    } else process.stdout.write(`${name} ${dir}: ok\n`)
  }
  if (staged !== undefined) rmSync(staged)
}
if (failed > 0) {
  process.stderr.write(`check-packages: ${failed} check(s) failed; see above\n`)
  process.exit(1)
}
