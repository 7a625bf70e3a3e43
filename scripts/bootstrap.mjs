#!/usr/bin/env node
// Makes a fresh clone runnable with nothing but Node >= 20.17, npm, cargo and a C compiler, so that
// the README's `npm start` and `npm test` work before anything else is installed:
//   1. installs the workspace with the pnpm version pinned in package.json (through npx, so no global
//      pnpm is needed), skipped when node_modules already matches the lockfile;
//   2. builds every package with turbo (cached), unless --no-build.
import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const args = new Set(process.argv.slice(2))
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
const pnpmVersion = pkg.packageManager.replace(/^pnpm@/, '')

function run(command, commandArgs, what) {
  const result = spawnSync(command, commandArgs, {
    cwd: root,
    stdio: 'inherit',
    env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', DO_NOT_TRACK: '1' },
  })
  if (result.error) {
    console.error(`bootstrap: could not ${what}: ${result.error.message}`)
    process.exit(1)
  }
  if (result.status !== 0) {
    console.error(`bootstrap: ${what} failed (exit ${result.status}); see the output above.`)
    process.exit(result.status ?? 1)
  }
}

function pnpm(pnpmArgs, what) {
  // pnpm is a devDependency so that turbo (which runs through the package manager) finds it on
  // PATH; before the first install it comes from npx, pinned to the same version.
  const local = join(root, 'node_modules/.bin/pnpm')
  if (existsSync(local)) return run(local, pnpmArgs, what)
  return run('npx', ['--yes', `pnpm@${pnpmVersion}`, ...pnpmArgs], what)
}

function installed() {
  // pnpm keeps a copy of the lockfile it installed from; equal contents mean nothing changed.
  const copy = join(root, 'node_modules/.pnpm/lock.yaml')
  if (!existsSync(copy)) return false
  const strip = (text) => text.replace(/\s+/g, '')
  return (
    strip(readFileSync(copy, 'utf8')) === strip(readFileSync(join(root, 'pnpm-lock.yaml'), 'utf8'))
  )
}

const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 20 || (major === 20 && minor < 17)) {
  console.error(`bootstrap: Node ${process.versions.node} is too old; install Node 20.17 or newer.`)
  process.exit(1)
}

if (!installed()) pnpm(['install', '--frozen-lockfile'], 'install the workspace with pnpm')
// turbo runs tasks through pnpm, so node_modules/.bin must be on PATH even when this script is
// started directly rather than through npm.
process.env.PATH = `${join(root, 'node_modules/.bin')}:${process.env.PATH}`
if (!args.has('--no-build'))
  run(
    join(root, 'node_modules/.bin/turbo'),
    ['run', 'build', '--output-logs=errors-only'],
    'build the packages'
  )
