#!/usr/bin/env node
import { spawn } from 'node:child_process'
import { runtimeName } from '@bento/core/adapter'
import { main } from './cli.ts'
import { nodePathWithSelf } from './self.ts'

// Bun reads NODE_PATH only when it starts, and a service file may import 'bento' from a project
// that has not installed it (see self.ts). `dev` and `serve` import the entry in processes of their
// own, which inherit NODE_PATH with the CLI's folders on it; `info` and `build` import it here, so
// for those Bun restarts once with it set (a restart costs ~70 ms, a tenth of `serve`'s start).
const nodePath = nodePathWithSelf(process.env.NODE_PATH)
const command = process.argv.slice(2).find((arg) => !arg.startsWith('-'))
const importsEntryHere = command === 'info' || command === 'build'
if (runtimeName() === 'bun' && process.env.NODE_PATH !== nodePath && importsEntryHere) {
  const child = spawn(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, NODE_PATH: nodePath },
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal))
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
} else {
  if (runtimeName() === 'bun') process.env.NODE_PATH = nodePath
  process.exitCode = await main(process.argv)
}
