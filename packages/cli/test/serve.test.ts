import { describe, expect, it } from 'vitest'
import { postJson, startBento } from '../../../test/support/bento.ts'
import { greeter, project } from './project.ts'

describe('bento serve', () => {
  it('takes the port and host from PORT and HOST, and logs one JSON object per line', async () => {
    const cwd = project({ 'service.ts': greeter('v1', "console.log('model loaded')") })
    const bento = startBento('node', ['serve', '--log-format', 'json', '--workers', '2'], {
      cwd,
      env: { PORT: '0', HOST: '127.0.0.1' },
    })
    const url = await bento.url()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect((await postJson(`${url}/greet`, { name: 'Ada' })).status).toBe(200)
    expect((await bento.stop()).code).toBe(0)
    const lines = bento.output.trim().split('\n')
    const entries = lines.map((line) => JSON.parse(line))
    for (const entry of entries) {
      expect(entry).toHaveProperty('time')
      expect(entry).toHaveProperty('level')
      expect(entry).toHaveProperty('msg')
    }
    // Once per worker, and once in the deployment process, which describes the entry: never in
    // the supervisor, which does not import user code.
    const loaded = entries.filter((e) => e.msg === 'model loaded')
    expect(loaded.map((e) => e.worker ?? e.process).sort()).toEqual([1, 2, 'deploy'])
  })

  it('replaces every worker on SIGHUP without going down', async () => {
    const cwd = project({ 'service.ts': greeter('v1') })
    const bento = startBento(
      'node',
      ['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '2'],
      { cwd }
    )
    const url = await bento.url()
    const pids = (output: string) =>
      new Map([...output.matchAll(/worker (\d+): ready \(pid (\d+)\)/g)].map((m) => [m[1], m[2]]))
    const before = pids(bento.output)
    expect([...before.keys()].sort()).toEqual(['1', '2'])
    bento.child.kill('SIGHUP')
    // Requests one after another from the signal until the reload is done (at least one): all 200.
    const answers: number[] = []
    do {
      answers.push((await postJson(`${url}/greet`, { name: 'Ada' })).status)
    } while (!/reload done/.test(bento.output))
    expect(answers).toEqual(answers.map(() => 200))
    // Each index now runs a new process, and its old one drained and exited.
    for (const [index, old] of before) {
      const [, fresh] = bento.output.match(
        new RegExp(`worker ${index}: pid (\\d+) ready; draining pid ${old}\\b`)
      )!
      expect(fresh).not.toBe(old)
      await bento.waitFor(new RegExp(`worker ${index}: pid ${old} drained and exited with code 0`))
    }
    expect((await postJson(`${url}/greet`, { name: 'Ada' })).status).toBe(200)
    expect((await bento.stop()).code).toBe(0)
  })
})
