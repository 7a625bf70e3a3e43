// main() in process, with the output captured: help, version, bad commands and flags, and info.
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type CliIo, main } from './cli.ts'

const empty = mkdtempSync(join(tmpdir(), 'bento-cli-'))
afterAll(() => rmSync(empty, { recursive: true, force: true }))

async function run(args: string[]) {
  const out: string[] = []
  const err: string[] = []
  const io: CliIo = { cwd: empty, env: {}, out: (t) => out.push(t), err: (t) => err.push(t) }
  const code = await main(['node', 'bento', ...args], io)
  return { code, out: out.join('\n'), err: err.join('\n') }
}

describe('main', () => {
  it('prints its version and help, exiting 0', async () => {
    const version = await run(['--version'])
    expect(version.code).toBe(0)
    expect(version.out).toMatch(/^\d+\.\d+\.\d+/)
    const help = await run(['--help'])
    expect(help.code).toBe(0)
    for (const command of ['dev', 'serve', 'info']) expect(help.out).toContain(command)
  })

  it('exits non-zero on an unknown command or flag, saying so', async () => {
    const unknown = await run(['deploy'])
    expect(unknown.code).not.toBe(0)
    expect(unknown.err).toMatch(/unknown command 'deploy'/)
    const flag = await run(['serve', '--workers', 'many'])
    expect(flag.code).toBe(1)
    expect(flag.err).toMatch(/--workers must be a positive integer, got "many"/)
  })

  it('shows the machine with info in a directory that holds no service', async () => {
    const info = await run(['info', '--json'])
    expect(info.code).toBe(0)
    const machine = JSON.parse(info.out)
    expect(machine.cpu.effective).toBeGreaterThan(0)
    expect(machine.plan).toBeUndefined()
  })
})
