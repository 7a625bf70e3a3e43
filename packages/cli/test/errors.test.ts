import net from 'node:net'
import { describe, expect, it } from 'vitest'
import { startBento } from '../../../test/support/bento.ts'
import { greeter, project } from './project.ts'

/** Runs a bento command to its end; every error must be one `bento:` line and exit code 1. */
async function fails(args: string[], cwd: string, env: Record<string, string> = {}) {
  const bento = startBento('node', args, { cwd, env })
  const { code } = await bento.exited
  return { code, output: bento.output.trim() }
}

const noStack = (output: string) => expect(output).not.toMatch(/\n\s+at /)

describe('bento errors are one clear line with the fix', () => {
  it('says where it looked when there is no service file', async () => {
    const { code, output } = await fails(['serve'], project({}))
    expect(code).toBe(1)
    expect(output).toMatch(
      /^bento: no service in the current directory \(.+\): looked for service\.ts, .+ and a package\.json with a "main"\. /
    )
    expect(output).toMatch(/Fix: create service\.ts/)
    noStack(output)
  })

  it('names a missing entry', async () => {
    const { code, output } = await fails(['dev', 'nope.ts'], project({}))
    expect(code).toBe(1)
    expect(output).toMatch(/^bento: nope\.ts does not exist/)
  })

  it('says so when the entry exports no service', async () => {
    const { code, output } = await fails(
      ['serve'],
      project({ 'service.ts': 'export const x = 1\n' })
    )
    expect(code).toBe(1)
    expect(output).toMatch(/exports no service\. Fix: export one/)
    noStack(output)
  })

  it('reports a syntax error in the entry without a stack, and with one under --verbose', async () => {
    const cwd = project({ 'service.ts': 'export default {{{\n' })
    const plain = await fails(['serve'], cwd)
    expect(plain.code).toBe(1)
    expect(plain.output).toMatch(/^bento: could not load .+service\.ts/)
    noStack(plain.output)
    const verbose = await fails(['serve', '--verbose'], cwd)
    expect(verbose.code).toBe(1)
    expect(verbose.output).toMatch(/\n\s+at /)
  })

  it('reports an entry that throws as it loads, from the deployment process, before any worker starts', async () => {
    const cwd = project({ 'service.mjs': "throw new Error('the model file is missing')\n" })
    const { code, output } = await fails(['serve', '--port', '0'], cwd)
    expect(code).toBe(1)
    expect(output).toMatch(/^bento: could not load .+service\.mjs: the model file is missing$/m)
    expect(output).not.toMatch(/worker 1|starting \d+ .* workers/)
    noStack(output)
  })

  it('names the nearest setting when a service has one it does not know', async () => {
    const source = greeter('v1').replace("name: 'greeter',", "name: 'greeter',\n  worker: 2,")
    const { code, output } = await fails(
      ['serve', '--port', '0'],
      project({ 'service.ts': source })
    )
    expect(code).toBe(1)
    expect(output).toMatch(
      /service "greeter": worker is not a setting\. Fix: did you mean workers\?/
    )
  })

  it('rejects a bad config before any worker starts', async () => {
    const source = greeter('v1').replace("name: 'greeter',", "name: 'greeter',\n  workers: 0,")
    const { code, output } = await fails(
      ['serve', '--port', '0'],
      project({ 'service.ts': source })
    )
    expect(code).toBe(1)
    expect(output).toMatch(/service "greeter": workers must be a positive integer/)
    expect(output).toMatch(/Fix:/)
    expect(output).not.toMatch(/\[worker/)
    noStack(output)
  })

  it('rejects bad flags', async () => {
    const cwd = project({ 'service.ts': greeter('v1') })
    const port = await fails(['serve', '--port', 'abc'], cwd)
    expect(port.code).toBe(1)
    expect(port.output).toMatch(/--port must be a port number/)
    const workers = await fails(['serve', '--workers', '0'], cwd)
    expect(workers.code).toBe(1)
    expect(workers.output).toMatch(/--workers must be a positive integer, got "0"/)
    const format = await fails(['serve', '--log-format', 'xml'], cwd)
    expect(format.output).toMatch(/--log-format must be "pretty" or "json"/)
    const unknown = await fails(['serve', '--nope'], cwd)
    expect(unknown.code).toBe(1)
    expect(unknown.output).toMatch(/unknown option '--nope'/)
  })

  it('says which port is in use, before any worker starts', async () => {
    const server = net.createServer()
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as net.AddressInfo
    try {
      const cwd = project({ 'service.ts': greeter('v1') })
      const { code, output } = await fails(
        ['serve', '--port', String(port), '--host', '127.0.0.1'],
        cwd
      )
      expect(code).toBe(1)
      expect(output).toMatch(new RegExp(`${port} is in use`))
      expect(output).not.toMatch(/\[worker/)
      noStack(output)
    } finally {
      server.close()
    }
  })
})

describe('bento --help', () => {
  it('documents every command and its flags', async () => {
    const cwd = project({})
    const top = startBento('node', ['--help'], { cwd })
    expect((await top.exited).code).toBe(0)
    for (const command of ['dev', 'serve', 'info']) expect(top.output).toContain(command)
    const expectations: Record<string, string[]> = {
      dev: ['--port', '--host', '--workers', '--no-watch'],
      serve: ['--port', '--host', '--workers', '--log-format', '--service', '--depends'],
      info: ['--json', '--workers', '--service', '--depends'],
    }
    for (const [command, flags] of Object.entries(expectations)) {
      const help = startBento('node', [command, '--help'], { cwd })
      expect((await help.exited).code).toBe(0)
      for (const flag of flags) expect(help.output).toContain(flag)
    }
  })
})
