#!/usr/bin/env node
import { spawn } from 'node:child_process'
import { runtimeName } from '@bento/core/adapter'
import { main } from './cli.ts'
import { nodePathWithSelf } from './self.ts'

// Bun reads NODE_PATH only when it starts: restart once with the CLI's own folders on it, so a
// service file can import 'bento' from a project that has not installed it (see self.ts).
const nodePath = nodePathWithSelf(process.env.NODE_PATH)
if (runtimeName() === 'bun' && process.env.NODE_PATH !== nodePath) {
  const child = spawn(process.execPath, process.argv.slice(1), {
    stdio: 'inherit',
    env: { ...process.env, NODE_PATH: nodePath },
  })
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.on(signal, () => child.kill(signal))
  }
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 128 : 1)))
} else {
  process.exitCode = await main(process.argv)
}
