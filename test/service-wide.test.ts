// /metrics and /readyz speak for the whole service: whichever worker answers, the figures are
// summed over every worker (through the supervisor), and readiness names each worker; with
// --admin-port, /metrics is served there only.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, it } from 'vitest'
import { fresh, RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/counting/', import.meta.url))
const flags = mkdtempSync(join(tmpdir(), 'bento-ready-'))
afterAll(() => rmSync(flags, { recursive: true, force: true }))

describe.each(RUNTIMES)('service-wide health and metrics on %s', (runtime) => {
  it('sums /metrics over both workers on the admin port and names each worker in /readyz', async () => {
    const flag = join(flags, `${runtime}-`)
    const args = ['serve', '--port', '0', '--host', '127.0.0.1', '--admin-port', '0']
    const bento = startBento(runtime, args, { cwd, env: { NOT_READY_FLAG: flag } })
    const port = Number(new URL(await bento.url()).port)
    const admin = Number(
      (await bento.waitFor(/admin \(health, metrics\) on http:\/\/127\.0\.0\.1:(\d+)/))[1]
    )
    expect(admin).not.toBe(port)
    // /metrics is the admin port's alone; the admin port serves nothing but the operational routes.
    expect((await fresh(port, 'GET', '/metrics')).status).toBe(404)
    expect((await fresh(admin, 'POST', '/hit')).status).toBe(404)
    const answeredBy = new Set<number>()
    let hits = 0
    for (; hits < 200 && (hits < 40 || answeredBy.size < 2); hits++) {
      const { status, body } = await fresh(port, 'POST', '/hit')
      expect(status).toBe(200)
      answeredBy.add(JSON.parse(body).worker)
    }
    expect([...answeredBy].sort()).toEqual([1, 2])

    // Asked several times, so that each worker gets to answer: always the same totals.
    for (let i = 0; i < 6; i++) {
      const text = (await fresh(admin, 'GET', '/metrics')).body
      const total = Number(
        /^bento_requests_total\{service="counting",api="hit",status="200"\} (\d+)$/m.exec(text)?.[1]
      )
      expect(total).toBe(hits)
      expect(text).toMatch(/^bento_workers\{service="counting"\} 2$/m)
      expect(text).toMatch(/^bento_worker_requests_in_flight\{service="counting",worker="1"\} 0$/m)
      expect(text).toMatch(/^bento_worker_requests_in_flight\{service="counting",worker="2"\} 0$/m)
    }

    expect((await fresh(admin, 'GET', '/readyz')).status).toBe(200)
    const ready = await fresh(port, 'GET', '/readyz')
    expect(ready.status).toBe(200)
    expect(JSON.parse(ready.body)).toMatchObject({
      status: 'ready',
      workers: [
        { worker: 1, ready: true },
        { worker: 2, ready: true },
      ],
    })
    // Worker 2 stops being ready: whichever worker answers says so, naming it.
    writeFileSync(`${flag}2`, '')
    for (let i = 0; i < 6; i++) {
      const notReady = await fresh(port, 'GET', '/readyz')
      expect(notReady.status).toBe(503)
      expect(JSON.parse(notReady.body)).toMatchObject({
        status: 'not ready',
        workers: [
          { worker: 1, ready: true },
          { worker: 2, ready: false },
        ],
      })
    }
    expect((await bento.stop()).code).toBe(0)
  })
})
