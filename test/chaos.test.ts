// Chaos, as the OOM killer or a chaos tool would bring it: `bento serve` of examples/hello with 2
// workers under 32 keep-alive connections, a random worker SIGKILLed every second for 20 s, on
// each runtime. The service must still be serving at the end with both worker indexes back, no
// request may hang (each ends within 5 s), and the only failures may be requests that were in
// flight on the worker just killed: a connection error on a connection that worker was serving.
// One exception, on Bun and Deno only: while every worker is dead at once, the port has no
// listener (each worker binds it with SO_REUSEPORT, and neither runtime can serve an inherited
// socket), so new connections are refused until the first worker is back, which bento makes
// immediate. On Node the supervisor owns the port and holds those connections instead.
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('../examples/hello/', import.meta.url))
const CONNECTIONS = 32
const KILLS = 20
const REQUEST_TIMEOUT_MS = 5_000

/** One POST on its own connection, so that successive ones reach different workers. */
function freshPost(port: number, path: string, data: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const body = JSON.stringify(data)
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body: text }))
      }
    )
    req.on('error', reject)
    req.end(body)
  })
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

interface Failure {
  error: string
  /** The worker index that last answered on this connection; `undefined` for a new one. */
  servedBy: number | undefined
  /** Milliseconds since the last kill of that index (or of any worker, for a new connection). */
  sinceKill: number
  /** Milliseconds since the last kill that left no worker alive. */
  sinceLonelyKill: number
  /** When it failed (Date.now()). */
  at: number
}

// Events reach the test through the supervisor's log pipe, a few ms after they happen: a
// refusal this close after a "ready" line still counts as before it.
const LOG_DELAY_MS = 100

describe.each(RUNTIMES)('chaos on %s', (runtime) => {
  it('keeps serving while a random worker is SIGKILLed every second for 20 s', async () => {
    const bento = startBento(
      runtime,
      ['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '2'],
      { cwd }
    )
    const url = await bento.url()
    const port = Number(new URL(url).port)
    // The current pid of each worker index, from the supervisor's log.
    const pids = () => {
      const current = new Map<number, number>()
      for (const m of bento.output.matchAll(
        /worker (\d+): (?:ready \(pid|pid) (\d+)(?:\)| ready)/g
      )) {
        current.set(Number(m[1]), Number(m[2]))
      }
      return current
    }
    const lastKill = new Map<number, number>()
    let anyKill = Number.NEGATIVE_INFINITY
    // Kills that left no worker alive: only right after one may Bun and Deno refuse connections.
    const lonelyKills: number[] = []
    // When each "worker N: ready" line arrived: after a lonely kill, the first one ends the time
    // in which the port has no listener.
    const readyAt: number[] = []
    for (const stream of [bento.child.stdout!, bento.child.stderr!]) {
      stream.on('data', (text: string) => {
        for (const _ of String(text).matchAll(/worker \d+: ready/g)) readyAt.push(Date.now())
      })
    }
    const servedBy = new WeakMap<object, number>()
    const failures: Failure[] = []
    const statuses = new Map<number, number>()
    let answered = 0
    let slowest = 0
    let running = true

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
    const one = () =>
      new Promise<void>((resolve) => {
        const started = Date.now()
        const body = JSON.stringify({ name: 'chaos' })
        const req = http.request(
          {
            host: '127.0.0.1',
            port,
            path: '/greet',
            method: 'POST',
            agent,
            headers: { 'content-type': 'application/json', 'content-length': body.length },
          },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (chunk: string) => {
              text += chunk
            })
            res.on('end', () => {
              slowest = Math.max(slowest, Date.now() - started)
              statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1)
              if (res.statusCode === 200) {
                answered++
                servedBy.set(req.socket!, JSON.parse(text).worker)
              }
              resolve()
            })
            res.on('error', () => {})
          }
        )
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('hung for 5 s')))
        req.on('error', (error: NodeJS.ErrnoException) => {
          slowest = Math.max(slowest, Date.now() - started)
          const worker = req.socket ? servedBy.get(req.socket) : undefined
          const killedAt = worker === undefined ? anyKill : (lastKill.get(worker) ?? -Infinity)
          failures.push({
            error: error.code ?? error.message,
            servedBy: worker,
            sinceKill: Date.now() - killedAt,
            sinceLonelyKill: Date.now() - (lonelyKills.at(-1) ?? Number.NEGATIVE_INFINITY),
            at: Date.now(),
          })
          // As a client with retries does: no tight loop against a refused port.
          if (error.code === 'ECONNREFUSED') setTimeout(resolve, 20)
          else resolve()
        })
        req.end(body)
      })
    const clients = Array.from({ length: CONNECTIONS }, async () => {
      while (running) await one()
    })

    let kills = 0
    for (let second = 0; second < KILLS; second++) {
      await new Promise((r) => setTimeout(r, 1000))
      // A random worker among those alive (one killed a moment ago may not be back yet).
      const live = [...pids()].filter(([, pid]) => alive(pid))
      if (live.length === 0) continue
      const [index, pid] = live[Math.floor(Math.random() * live.length)]!
      process.kill(pid, 'SIGKILL')
      kills++
      lastKill.set(index, Date.now())
      anyKill = Date.now()
      if (live.length === 1) lonelyKills.push(anyKill)
    }
    // The clients keep going a moment longer, then both indexes must answer again (a worker
    // killed last may be waiting out its backoff, at most restart.backoff.max, 10 s).
    await new Promise((r) => setTimeout(r, 1000))
    running = false
    await Promise.all(clients)
    agent.destroy()
    const seen = new Set<number>()
    const back = Date.now()
    while (seen.size < 2 && Date.now() - back < 15_000) {
      const res = await freshPost(port, '/greet', { name: 'after' }).catch(() => undefined)
      if (res?.status === 200) seen.add((JSON.parse(res.body) as { worker: number }).worker)
      else await new Promise((r) => setTimeout(r, 50))
    }
    const byError = new Map<string, number>()
    for (const f of failures) byError.set(f.error, (byError.get(f.error) ?? 0) + 1)
    console.log(
      `${runtime}: answered ${answered}, failed ${failures.length} (${[...byError].map(([e, n]) => `${e} ${n}`).join(', ') || 'none'}), kills ${kills}, statuses ${JSON.stringify(Object.fromEntries(statuses))}, slowest ${slowest} ms`
    )

    // Still serving, with both worker indexes answering; the service never gave up.
    expect([...seen].sort()).toEqual([1, 2])
    expect(bento.child.exitCode).toBeNull()
    expect(bento.output).not.toMatch(/exited \d+ times within/)
    expect(kills).toBeGreaterThanOrEqual(KILLS - 2)
    expect(answered).toBeGreaterThan(1000)
    // Every request ended, answered or failed, within 5 s: none hung.
    expect(slowest).toBeLessThan(REQUEST_TIMEOUT_MS)
    // Answers were all 200; failures were connection errors of requests in flight on a worker
    // killed a moment before (the connection it was serving, or a new one just after a kill).
    expect([...statuses.keys()]).toEqual([200])
    const refused = failures.filter((f) => f.error === 'ECONNREFUSED')
    const inFlight = failures.filter((f) => f.error !== 'ECONNREFUSED')
    for (const failure of inFlight) {
      expect(failure.error, JSON.stringify(failure)).toMatch(/^(ECONNRESET|EPIPE)$/)
      expect(failure.sinceKill, JSON.stringify(failure)).toBeLessThan(2_000)
    }
    expect(inFlight.length).toBeLessThanOrEqual(kills * CONNECTIONS)
    if (runtime === 'node') expect(refused).toEqual([])
    // A refusal is only allowed while no worker was alive: after a kill that left none, and
    // before the first worker was ready again (however long its restart took on a busy machine).
    for (const failure of refused) {
      const kill = lonelyKills.filter((k) => k <= failure.at).at(-1)
      const back = readyAt.find((r) => kill !== undefined && r > kill)
      const context = JSON.stringify({ ...failure, kill, back })
      expect(kill, context).toBeDefined()
      expect(back === undefined || failure.at <= back + LOG_DELAY_MS, context).toBe(true)
    }
    console.log(
      `${runtime}: ${lonelyKills.length} kills left no worker alive; ${refused.length} connections refused right after them`
    )
    expect((await bento.stop()).code).toBe(0)
  }, 90_000)
})
