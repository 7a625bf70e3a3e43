// Chaos, as the OOM killer or a chaos tool would bring it: `bento serve` of examples/hello with 2
// workers under 32 keep-alive connections, a random worker SIGKILLed every second for 6 s, on
// each runtime. The service must still be serving at the end with both worker indexes back, every
// request must end (none hangs), and the only failures may be requests exposed to a kill: a
// connection error on a connection the killed worker was serving at the moment of the kill (or
// that no worker had answered yet), or on one opened between a kill and its replacement's ready
// line (Node's supervisor may hand it to the worker just killed before it learns of the exit).
// One exception, on Bun and Deno only: while every worker is dead at once, the port has no
// listener (each worker binds it with SO_REUSEPORT, and neither runtime can serve an inherited
// socket), so new connections are refused until the first worker is back, which bento makes
// immediate. On Node the supervisor owns the port and holds those connections instead.
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fresh, RUNTIMES, startBento } from '../support/bento.ts'

const cwd = fileURLToPath(new URL('../../examples/hello/', import.meta.url))
const CONNECTIONS = 32
const KILLS = 6
const REQUEST_TIMEOUT_MS = 5_000

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** What the test knows of one client connection. */
interface Connection {
  /** The worker index that last answered on it; `undefined` until one did. */
  servedBy: number | undefined
  /** A kill hit it: it was the killed worker's (or nobody's yet) at that moment. */
  doomed: boolean
  /** How many kills had been made when it was last doomed. */
  doomedAt: number
  /** Opened while a killed worker was not yet replaced. */
  openedInWindow: boolean
}

interface Failure {
  error: string
  /** The connection was exposed to a kill (doomed, or opened in a kill's window). */
  exposed: boolean
  servedBy: number | undefined
  /** When it failed (Date.now()). */
  at: number
}

// Events reach the test through the supervisor's log pipe, a few ms after they happen: a
// refusal this close after a "ready" line still counts as before it.
const LOG_DELAY_MS = 100

describe.each(RUNTIMES)('chaos on %s', (runtime) => {
  it('keeps serving while a random worker is SIGKILLed every second for 6 s', async () => {
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
    // Kills that left no worker alive: only right after one may Bun and Deno refuse connections.
    const lonelyKills: number[] = []
    // When each "worker N: ready" line arrived: after a lonely kill, the first one ends the time
    // in which the port has no listener.
    const readyAt: number[] = []
    // Kills whose worker is not ready again yet: a connection opened meanwhile is exposed.
    let unreplaced = 0
    for (const stream of [bento.child.stdout!, bento.child.stderr!]) {
      stream.on('data', (text: string) => {
        for (const _ of String(text).matchAll(/worker \d+: ready/g)) {
          readyAt.push(Date.now())
          unreplaced = Math.max(0, unreplaced - 1)
        }
      })
    }
    const connections = new Map<object, Connection>()
    const failures: Failure[] = []
    const statuses = new Map<number, number>()
    let answered = 0
    let sent = 0
    let exposedRequests = 0
    let kills = 0
    let running = true

    const agent = new http.Agent({ keepAlive: true, maxSockets: CONNECTIONS })
    const one = () =>
      new Promise<void>((resolve) => {
        sent++
        const startedAfter = kills
        let connection: Connection | undefined
        let counted = false
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
              exposed()
              statuses.set(res.statusCode!, (statuses.get(res.statusCode!) ?? 0) + 1)
              if (res.statusCode === 200) {
                answered++
                if (connection) {
                  connection.servedBy = JSON.parse(text).worker
                  // An answer to a request sent after the kill that doomed it (or on a connection
                  // opened since) came from a live process: what follows on it is not exposed. An
                  // answer to one sent before may have left the killed worker just in time.
                  if (startedAfter >= connection.doomedAt) connection.doomed = false
                  connection.openedInWindow = false
                }
              }
              resolve()
            })
            res.on('error', () => {})
          }
        )
        req.on('socket', (socket) => {
          connection = connections.get(socket)
          if (connection === undefined) {
            connection = {
              servedBy: undefined,
              doomed: false,
              doomedAt: 0,
              openedInWindow: unreplaced > 0,
            }
            connections.set(socket, connection)
            socket.once('close', () => connections.delete(socket))
          }
        })
        const exposed = () => {
          const yes = connection !== undefined && (connection.doomed || connection.openedInWindow)
          if (yes && !counted) {
            counted = true
            exposedRequests++
          }
          return yes
        }
        // A request that hangs is a failure of its own ('hung'), not a test that never ends.
        req.setTimeout(REQUEST_TIMEOUT_MS, () => req.destroy(new Error('hung')))
        req.on('error', (error: NodeJS.ErrnoException) => {
          failures.push({
            error: error.code ?? error.message,
            exposed: exposed(),
            servedBy: connection?.servedBy,
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

    for (let second = 0; second < KILLS; second++) {
      await new Promise((r) => setTimeout(r, 1000))
      // A random worker among those alive (one killed a moment ago may not be back yet).
      const live = [...pids()].filter(([, pid]) => alive(pid))
      if (live.length === 0) continue
      const [index, pid] = live[Math.floor(Math.random() * live.length)]!
      process.kill(pid, 'SIGKILL')
      kills++
      unreplaced++
      for (const connection of connections.values()) {
        if (connection.servedBy === undefined || connection.servedBy === index) {
          connection.doomed = true
          connection.doomedAt = kills
        }
      }
      if (live.length === 1) lonelyKills.push(Date.now())
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
      const res = await fresh(port, 'POST', '/greet', { name: 'after' }).catch(() => undefined)
      if (res?.status === 200) seen.add((JSON.parse(res.body) as { worker: number }).worker)
      else await new Promise((r) => setTimeout(r, 50))
    }
    const byError = new Map<string, number>()
    for (const f of failures) byError.set(f.error, (byError.get(f.error) ?? 0) + 1)
    console.log(
      `${runtime}: sent ${sent}, answered ${answered}, failed ${failures.length} (${[...byError].map(([e, n]) => `${e} ${n}`).join(', ') || 'none'}) of ${exposedRequests} exposed to a kill, kills ${kills}, statuses ${JSON.stringify(Object.fromEntries(statuses))}`
    )

    // Still serving, with both worker indexes answering; the service never gave up.
    expect([...seen].sort()).toEqual([1, 2])
    expect(bento.child.exitCode).toBeNull()
    expect(bento.output).not.toMatch(/exited \d+ times within/)
    expect(kills).toBeGreaterThanOrEqual(KILLS - 2)
    // Every request ended, answered or failed (none hung), and every answer was a 200.
    expect(answered + failures.length).toBe(sent)
    expect([...statuses.keys()]).toEqual([200])
    // Failures were connection errors of requests exposed to a kill, so there are no more of
    // them than such requests.
    const refused = failures.filter((f) => f.error === 'ECONNREFUSED')
    const inFlight = failures.filter((f) => f.error !== 'ECONNREFUSED')
    for (const failure of inFlight) {
      expect(failure.error, JSON.stringify(failure)).toMatch(/^(ECONNRESET|EPIPE)$/)
      expect(failure.exposed, JSON.stringify(failure)).toBe(true)
    }
    expect(inFlight.length).toBeLessThanOrEqual(exposedRequests)
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
