import { writeFileSync } from 'node:fs'
import { request } from 'node:http'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { type Bento, postJson, RUNTIMES, startBento } from '../../../test/support/bento.ts'
import { greeter, project } from './project.ts'

/**
 * Polls until the greeting names `version`; bounded (30 s, for a loaded machine), so a reload that
 * never happens fails, with what bento printed.
 */
async function waitForVersion(bento: Bento, url: string, version: string) {
  const deadline = Date.now() + 30_000
  while (Date.now() < deadline) {
    const { body } = await postJson(`${url}/greet`, { name: 'Ada' }).catch(() => ({
      body: undefined,
    }))
    if (body?.message === `Hello Ada from ${version}`) return
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
  throw new Error(`the service never answered from ${version}; bento printed:\n${bento.output}`)
}

/** A GET of /livez with the Host header given, on a connection of its own. */
function withHost(port: number, host: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request(
      { host: '127.0.0.1', port, path: '/livez', agent: false, headers: { host } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      }
    )
    req.on('error', reject)
    req.end()
  })
}

describe.each(RUNTIMES)('bento dev on %s', (runtime) => {
  it('serves a TypeScript entry to this machine only, reloads on save, and keeps the last good workers when a save breaks', async () => {
    const cwd = project({ 'service.ts': greeter('v1') })
    // No --port, no --host: $PORT (0: a free one) and this machine only.
    const bento = startBento(runtime, ['dev'], { cwd, env: { PORT: '0' } })
    const url = await bento.url()
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
    expect(bento.output).toContain(`docs ${url}/`)
    await waitForVersion(bento, url, 'v1')
    const port = new URL(url).port
    // DNS rebinding: a page on the attacker's name, resolved to 127.0.0.1, gets nothing back.
    const rebound = await withHost(Number(port), 'rebind.attacker.example')
    expect(rebound.status).toBe(403)
    expect(JSON.parse(rebound.body).error).toMatch(/"rebind\.attacker\.example".*DNS rebinding/)
    expect((await withHost(Number(port), `localhost:${port}`)).status).toBe(200)

    writeFileSync(join(cwd, 'service.ts'), greeter('v2'))
    await waitForVersion(bento, url, 'v2')
    await bento.waitFor(/reloaded in \d+ ms/)
    // The v1 worker drains: until it has exited, a request on a connection it still holds (the
    // client's keep-alive pool) is answered by it, as a drain promises.
    await bento.waitFor(/drained and exited/)

    writeFileSync(join(cwd, 'service.ts'), greeter('v3', 'this is not TypeScript ((('))
    await bento.waitFor(/reload failed, still serving the last good version/)
    expect((await postJson(`${url}/greet`, { name: 'Ada' })).body.message).toBe('Hello Ada from v2')

    writeFileSync(join(cwd, 'service.ts'), greeter('v4'))
    await waitForVersion(bento, url, 'v4')
    // The same port throughout: clients never see the address change.
    expect(new URL(url).port).toBe(port)

    const { code } = await bento.stop('SIGINT')
    expect(code).toBe(0)
  })

  it('reloads only the services whose files changed', async () => {
    const model = (version: string) => `import { api, service } from '@bento/core'
export const model = service({
  name: 'model',
  workers: 1,
  apis: { label: api({ handler: () => ({ model: '${version}' }) }) },
})
`
    const front = (version: string) => `import { api, service } from '@bento/core'
import { model } from './model.ts'
export default service({
  name: 'front',
  depends: { model },
  apis: {
    ask: api({
      handler: async (_input: unknown, ctx) => ({ front: '${version}', ...(await ctx.depends.model.label({})) }),
    }),
  },
})
`
    const cwd = project({
      'service.ts': "export { default } from './front.ts'\n",
      'front.ts': front('f1'),
      'model.ts': model('m1'),
    })
    const bento = startBento(runtime, ['dev', '--port', '0'], { cwd })
    const url = await bento.url()
    // A drained worker still answers on a connection it holds until it exits: poll, bounded.
    const answers = async (expected: object) => {
      const deadline = Date.now() + 30_000
      let body: unknown
      while (Date.now() < deadline) {
        body = (await postJson(`${url}/ask`, {})).body
        if (JSON.stringify(body) === JSON.stringify(expected)) return
        await new Promise((resolve) => setTimeout(resolve, 100))
      }
      throw new Error(`answered ${JSON.stringify(body)}; bento printed:\n${bento.output}`)
    }
    await answers({ front: 'f1', model: 'm1' })

    // The front's own file: its workers are replaced, the model's are not.
    writeFileSync(join(cwd, 'front.ts'), front('f2'))
    // Up to the line's end: a line can arrive in two pieces.
    expect((await bento.waitFor(/front\.ts changed: reloading ([^\n]*)\n/))[1]).toBe('front')
    await bento.waitFor(/reloaded in \d+ ms/)
    await answers({ front: 'f2', model: 'm1' })
    expect(bento.output).not.toMatch(/model: reloading/)

    // The model's file is imported by both definitions: both are replaced (the graph's reload,
    // the model first).
    writeFileSync(join(cwd, 'model.ts'), model('m2'))
    expect((await bento.waitFor(/model\.ts changed: reloading ([^\n]*)\n/))[1]).toBe(
      'every service'
    )
    await bento.waitFor(/model: reload done[\s\S]*reloaded in \d+ ms/)
    await answers({ front: 'f2', model: 'm2' })
    expect((await bento.stop('SIGINT')).code).toBe(0)
  })
})

describe('bento dev', () => {
  it('ignores changes under node_modules', async () => {
    const cwd = project({ 'service.ts': greeter('v1') })
    const bento = startBento('node', ['dev', '--port', '0'], { cwd })
    const url = await bento.url()
    await waitForVersion(bento, url, 'v1')
    const { mkdirSync } = await import('node:fs')
    mkdirSync(join(cwd, 'node_modules'), { recursive: true })
    writeFileSync(join(cwd, 'node_modules', 'x.js'), 'export {}\n')
    writeFileSync(join(cwd, 'notes.txt'), 'a change that counts')
    await bento.waitFor(/notes\.txt changed: reloading/)
    expect(bento.output).not.toMatch(/node_modules.*changed/)
    // The standby loaded the packages before node_modules changed: this reload starts anew.
    await bento.waitFor(/packages changed: starting new processes/)
    await bento.waitFor(/reloaded in \d+ ms/)
    writeFileSync(join(cwd, 'notes.txt'), 'a second change')
    await bento.waitFor(/reloaded in \d+ ms[\s\S]*reloaded in \d+ ms/)
    expect(bento.output.match(/packages changed/g)).toHaveLength(1)
    expect((await bento.stop()).code).toBe(0)
  })

  it('serves a directory given as the entry, says where the one worker comes from, and watches that directory', async () => {
    const cwd = project({ 'app/service.ts': greeter('v1') })
    const bento = startBento('node', ['dev', 'app', '--port', '0'], { cwd })
    const url = await bento.url()
    await waitForVersion(bento, url, 'v1')
    // No flag was given, and none is claimed.
    expect(bento.output).toMatch(
      /workers: 1 \(bento dev runs one worker; --workers runs more\) -> 1 worker/
    )
    expect(bento.output).not.toMatch(/command line/)
    writeFileSync(join(cwd, 'app', 'service.ts'), greeter('v2'))
    await waitForVersion(bento, url, 'v2')
    expect((await bento.stop()).code).toBe(0)
  })
})
