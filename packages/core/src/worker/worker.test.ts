// runWorker() standalone, in this process: it serves a fetch handler on $PORT, runs every service's
// onStartup in order before it listens, and on stop() finishes requests in flight, then runs the
// onShutdown hooks in reverse order.
import { request } from 'node:http'
import { afterEach, describe, expect, it } from 'vitest'
import { service } from '../service/service.ts'
import { type RunningWorker, runWorker } from './worker.ts'

const running: RunningWorker[] = []
afterEach(async () => {
  for (const worker of running.splice(0)) await worker.stop()
  delete process.env.PORT
  delete process.env.HOST
})

function get(port: number, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path, agent: false }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () => resolve({ status: res.statusCode!, body }))
    })
      .on('error', reject)
      .end()
  })
}

describe('runWorker (standalone)', () => {
  it("runs each service's hooks around serving: starts in order, stops in reverse, after the requests in flight", async () => {
    const events: string[] = []
    const hooked = (name: string) =>
      service({
        name,
        apis: {},
        onStartup: () => {
          events.push(`${name} started`)
        },
        onShutdown: () => {
          events.push(`${name} stopped`)
        },
      })
    process.env.PORT = '0'
    process.env.HOST = '127.0.0.1'
    const worker = await runWorker({
      fetch: async (req) => {
        const ms = Number(new URL(req.url).searchParams.get('ms') ?? 0)
        await new Promise((r) => setTimeout(r, ms))
        events.push(`answered ${ms}`)
        return new Response('ok')
      },
      services: [hooked('a'), hooked('b')],
    })
    expect(worker.supervised).toBe(false)
    expect(events).toEqual(['a started', 'b started'])
    const slow = get(worker.port, '/?ms=300')
    await new Promise((r) => setTimeout(r, 50))
    await worker.stop()
    expect((await slow).status).toBe(200)
    expect(events).toEqual(['a started', 'b started', 'answered 300', 'b stopped', 'a stopped'])
  })

  it('refuses what is not a fetch handler or a service, naming the fix', async () => {
    await expect(runWorker({ fetch: 'nope' as never })).rejects.toThrow(
      /runWorker\(options\)\.fetch must be a function/
    )
    await expect(
      runWorker({ fetch: () => new Response(''), services: [{} as never] })
    ).rejects.toThrow(/runWorker\(options\)\.services\[0\] is not a service/)
  })
})
