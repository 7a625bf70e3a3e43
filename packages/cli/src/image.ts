#!/usr/bin/env node
// The entry of an image that `bento build` writes: `bento serve` with the same flags, without the
// CLI's toolchain. What the toolchain is, package.json's "bento.toolchain" says: the build leaves
// those packages out of an image, and image-args.test.ts checks that nothing this file loads
// imports them.
import { serveCommand } from './commands/serve.ts'
import { formatError } from './errors.ts'
import { imageArgs } from './image-args.ts'

try {
  const { entry, options } = imageArgs(process.argv.slice(2), process.env)
  await serveCommand(entry, options, process.cwd())
} catch (error) {
  process.stderr.write(`${formatError(error, { verbose: process.argv.includes('--verbose') })}\n`)
  process.exitCode = 1
}
