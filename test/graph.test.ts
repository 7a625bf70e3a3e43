// A graph of services on one machine and across two: `search` (2 workers) calls `embedder` (2
// workers) on private Unix sockets (with the graph's token), per request by least outstanding calls; deadlines,
// cancellation, request ids and trace context cross the call; a callee worker SIGKILLed under
// load costs no caller request; readiness and metrics cover the graph; bad graphs fail before
// any process starts. On Node, Bun and Deno.
import { execFile } from 'node:child_process'
import { existsSync, readdirSync, statSync } from 'node:fs'
import { Agent, createServer, request, type ServerResponse } from 'node:http'
import { type AddressInfo, connect } from 'node:net'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { client } from 'bento/client'
import { describe, expect, it } from 'vitest'
import type search from './fixtures/graph/service.ts'
import type { embedder } from './fixtures/graph/service.ts'
import { type Bento, RUNTIMES, repoRoot, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/graph/', import.meta.url))
const serveArgs = ['serve', 'service.ts', '--port', '0', '--host', '127.0.0.1']

interface Answer {
  status: number
  // biome-ignore lint/suspicious/noExplicitAny: the tests read the JSON body freely
  body: any
}

/** POSTs JSON over `agent` (a keep-alive client), or a fresh connection. */
function post(
  url: string,
  path: string,
  data: unknown,
  options: { agent?: Agent; signal?: AbortSignal; timeoutMs?: number } = {}
): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify(data)
    const req = request(
      `${url}${path}`,
      {
        method: 'POST',
        agent: options.agent ?? false,
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
        ...(options.signal && { signal: options.signal }),
        timeout: options.timeoutMs ?? 20_000,
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          text += chunk
        })
        res.on('end', () => {
          let parsed: unknown = text
          try {
            parsed = JSON.parse(text)
          } catch {
            // Not JSON: kept as text.
          }
          resolve({ status: res.statusCode!, body: parsed })
        })
      }
    )
    // A request that hangs is a failure of its own, not a test that never ends.
    req.on('timeout', () =>
      req.destroy(new Error(`no answer to ${path} within the client's timeout`))
    )
    req.on('error', reject)
    req.end(body)
  })
}

async function get(url: string, path: string, signal?: AbortSignal): Promise<Answer> {
  const response = await fetch(`${url}${path}`, signal && { signal })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Prometheus text.
  }
  return { status: response.status, body }
}

describe.each(RUNTIMES)('a graph of services on %s', (runtime) => {
  // The first three tests share one graph, in this order (the third SIGKILLs a worker, then stops
  // the graph); a test run alone starts it.
  let graph: Promise<{ bento: Bento; url: string }> | undefined
  const sharedGraph = () => {
    graph ??= (async () => {
      const bento = startBento(runtime, serveArgs, { cwd, shared: true })
      return { bento, url: await bento.url(60_000) }
    })()
    return graph
  }

  it('loads the tiers side by side, and readies a caller only after its dependency', async () => {
    // A server that answers each tier's "I have begun" only once both have said it.
    const arrived = new Map<string, ServerResponse>()
    const meeting = createServer((req, res) => {
      arrived.set(req.url!.slice(1), res)
      if (arrived.size === 2) for (const waiting of arrived.values()) waiting.end('met')
    })
    await new Promise<void>((resolve) => meeting.listen(0, '127.0.0.1', resolve))
    const { port } = meeting.address() as AddressInfo
    const bento = startBento(
      runtime,
      ['serve', 'rendezvous.ts', '--port', '0', '--host', '127.0.0.1'],
      {
        cwd,
        env: { RENDEZVOUS_URL: `http://127.0.0.1:${port}` },
      }
    )
    try {
      const url = await bento.url(60_000)
      expect([...arrived.keys()].sort()).toEqual(['front', 'model'])
      // The model's worker was ready (and said where) before the front's could be.
      const model = bento.output.search(/model worker 1: ready/)
      const front = bento.output.search(/\] worker 1: ready/)
      expect(model, bento.output).toBeGreaterThan(-1)
      expect(front, bento.output).toBeGreaterThan(model)
      expect((await post(url, '/ask', {})).body).toEqual({ label: 'positive' })
    } finally {
      await bento.stop()
      meeting.closeAllConnections()
      await new Promise((resolve) => meeting.close(resolve))
    }
  })

  it('serves search in front of embedder, each with its own workers, on private sockets', async () => {
    const { bento, url } = await sharedGraph()
    // The dependency started first, on its own sockets, in a directory only this user enters.
    const dir = (await bento.waitFor(/private Unix sockets in (\S+)/))[1]!
    expect(bento.output.indexOf('embedder')).toBeLessThan(bento.output.indexOf(`at ${url}`))
    expect(statSync(dir).mode & 0o777).toBe(0o700)
    const sockets = readdirSync(dir)
    expect(sockets).toHaveLength(2)
    for (const socket of sockets) {
      const stat = statSync(join(dir, socket))
      expect(stat.isSocket()).toBe(true)
      expect(stat.mode & 0o777).toBe(0o600)
    }
    // This user too, without the graph's token, is refused: only the graph's services call it.
    // The socket speaks frames, and a connection that does not open with the graph's token (an
    // HTTP request, a guessed token) is closed without an answer.
    const refused = (bytes: Buffer) =>
      new Promise<string>((resolve, reject) => {
        let heard = ''
        connect(join(dir, sockets[0]!))
          .on('data', (data) => {
            heard += data.toString()
          })
          .on('close', () => resolve(heard))
          .on('error', reject)
          .end(bytes)
      })
    expect(await refused(Buffer.from('POST /embed HTTP/1.1\r\nhost: x\r\n\r\n'))).toBe('')
    const guess = Buffer.from('a-guessed-token')
    const hello = Buffer.alloc(9)
    hello.writeUInt32BE(5 + guess.length, 0)
    hello[4] = 1
    expect(await refused(Buffer.concat([hello, guess]))).toBe('')

    const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01'
    const response = await fetch(`${url}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', traceparent, 'x-request-id': 'trace-me-1' },
      body: JSON.stringify({ q: 'hello world' }),
    })
    expect(response.status).toBe(200)
    const found = await response.json()
    expect(found).toMatchObject({ q: 'hello world', vector: [11, 1] })
    expect([1, 2]).toContain(found.worker)
    expect([1, 2]).toContain(found.caller)
    // The request's id and trace cross the call; the span id is the call's own.
    expect(found.requestId).toBe('trace-me-1')
    expect(found.traceparent).toMatch(/^00-4bf92f3577b34da6a3ce929d0e0e4736-[0-9a-f]{16}-01$/)
    expect(found.traceparent).not.toBe(traceparent)
    // The caller's remaining time travels with the call (search's timeout is 30 s).
    expect(Number(found.timeout)).toBeGreaterThan(25_000)
    expect(Number(found.timeout)).toBeLessThanOrEqual(30_000)

    // Streams cross too, strings staying strings.
    expect((await post(url, '/tokens', { text: 'a b 42' })).body).toEqual({
      words: ['a', 'b', '42'],
    })
    // A callee's error keeps its status and body for the caller's handler; unhandled, it is a 503
    // that names the dependency and its status, and nothing of what it said (its body may hold a
    // stack trace or a database host): that goes to the log.
    const failed = await post(url, '/fail', { status: 422 })
    expect(failed.status).toBe(503)
    expect(failed.body).toEqual({
      error: 'the dependency "embedder" answered 422',
      dependency: { service: 'embedder', api: 'fail', status: 422 },
      requestId: expect.any(String),
    })
    await bento.waitFor(/failing with 422/)
    const caught = await post(url, '/fail', { status: 409, catch: true })
    expect(caught.body).toMatchObject({ caught: true, status: 409 })

    // Readiness and metrics speak for the graph.
    const ready = await get(url, '/readyz')
    expect(ready.status).toBe(200)
    expect(ready.body.dependencies).toEqual([{ service: 'embedder', ready: true }])
    const metrics = (await get(url, '/metrics')).body as string
    expect(metrics).toMatch(/^bento_workers\{service="search"\} 2$/m)
    expect(metrics).toMatch(/^bento_workers\{service="embedder"\} 2$/m)
    expect(metrics).toMatch(
      /^bento_requests_total\{service="embedder",api="embed",status="200"\} [1-9]/m
    )
    expect(metrics).toMatch(
      /^bento_dependency_calls_total\{service="search",dependency="embedder",api="fail",outcome="422"\} 1$/m
    )
    expect(metrics).toMatch(
      /^bento_dependency_call_duration_seconds_count\{service="search",dependency="embedder",api="embed"\} [1-9]/m
    )
  })

  it('spreads the calls of 2 keep-alive clients over both workers of the dependency', async () => {
    const { url } = await sharedGraph()
    const agents = [1, 2].map(() => new Agent({ keepAlive: true, maxSockets: 1 }))
    const byWorker = new Map<number, number>()
    const calls = 60
    await Promise.all(
      agents.map(async (agent, a) => {
        for (let i = 0; i < calls; i++) {
          const { status, body } = await post(url, '/search', { q: `c${a}-${i}`, ms: 2 }, { agent })
          expect(status).toBe(200)
          byWorker.set(body.worker, (byWorker.get(body.worker) ?? 0) + 1)
        }
      })
    )
    for (const agent of agents) agent.destroy()
    const total = 2 * calls
    for (const worker of [1, 2]) {
      const share = (byWorker.get(worker) ?? 0) / total
      expect(
        share,
        `embedder worker ${worker} served ${share * 100}% of the calls`
      ).toBeGreaterThanOrEqual(0.4)
      expect(share).toBeLessThanOrEqual(0.6)
    }
  })

  it('loses no caller request when a dependency worker is SIGKILLed under load, and stops clean', async () => {
    const { bento, url } = await sharedGraph()
    const dir = (await bento.waitFor(/private Unix sockets in (\S+)/))[1]!
    const first = await post(url, '/search', { q: 'who' })
    const victim = first.body.pid as number
    const answers: Answer[] = []
    let killed = false
    await Promise.all(
      [0, 1, 2, 3].map(async (client) => {
        const agent = new Agent({ keepAlive: true, maxSockets: 1 })
        for (let i = 0; i < 80; i++) {
          if (client === 0 && i === 20) {
            process.kill(victim, 'SIGKILL')
            killed = true
          }
          answers.push(await post(url, '/search', { q: `k${client}-${i}`, ms: 5 }, { agent }))
        }
        agent.destroy()
      })
    )
    expect(killed).toBe(true)
    // Every request was answered (none hung); a failure may only be the dependency named.
    expect(answers).toHaveLength(320)
    const failures = answers.filter((a) => a.status !== 200)
    for (const failure of failures) {
      expect(failure.status).toBe(503)
      expect(failure.body.dependency?.service).toBe('embedder')
    }
    expect(failures).toEqual([])
    // The supervisor brought the worker back.
    await bento.waitFor(/embedder worker \d: warn: pid \d+ was killed by SIGKILL[^\n]*restarting/)
    expect((await bento.stop()).code).toBe(0)
    // The sockets' directory goes with the graph.
    expect(existsSync(dir)).toBe(false)
  })

  it('gives the dependency no more than the caller has left, and cancels it with the caller', async () => {
    const bento = startBento(runtime, serveArgs, {
      cwd,
      env: { SEARCH_TIMEOUT: '1', EMBEDDER_WORKERS: '1' },
    })
    const url = await bento.url(60_000)
    // search has 1 s: the call to embedder is capped at that, and embedder's handler is aborted
    // although embedder's own timeout is 30 s.
    // (The client's own timeout, 5 s, is far below the 60 s the handler would hang.)
    const late = await post(url, '/hang', { id: 'deadline' }, { timeoutMs: 5_000 })
    expect(late.status).toBe(504)
    expect(late.body.error).toMatch(/timeout|did not answer/)
    // A client that goes away cancels the call: embedder's handler sees its signal abort.
    const gone = new AbortController()
    const leaving = post(url, '/hang', { id: 'cancelled' }, { signal: gone.signal }).catch(
      () => 'gone'
    )
    await bento.waitFor(/hang started id=cancelled/)
    gone.abort()
    expect(await leaving).toBe('gone')
    let aborted: string[] = []
    for (
      let i = 0;
      i < 50 && !(aborted.includes('deadline') && aborted.includes('cancelled'));
      i++
    ) {
      aborted = (await post(url, '/aborted', {})).body
      await new Promise((resolve) => setTimeout(resolve, 100))
    }
    expect(aborted).toContain('deadline')
    expect(aborted).toContain('cancelled')
    expect((await bento.stop()).code).toBe(0)
  })

  it('serves each service alone, calling the other at its URL with its bearer token, with a typed client', async () => {
    // embedder requires auth.bearer = env('EMBEDDER_TOKEN') on its public port: unset, nothing
    // starts.
    const unset = startBento(runtime, [...serveArgs, '--service', 'embedder'], { cwd })
    expect((await unset.exited).code).toBe(1)
    expect(unset.output).toMatch(
      /service "embedder": auth\.bearer reads the environment variable EMBEDDER_TOKEN, which is not set/
    )
    expect(unset.output).not.toMatch(/starting \d+ \w+ workers/)
    const token = 'the-embedder-token'
    const model = startBento(runtime, [...serveArgs, '--service', 'embedder'], {
      cwd,
      env: { EMBEDDER_TOKEN: token },
    })
    const modelUrl = await model.url(60_000)
    expect(model.output).not.toMatch(/private Unix sockets/)
    expect((await post(modelUrl, '/embed', { text: 'x' })).status).toBe(401)
    // search has the token in its environment too, and sends it: the callee declares it.
    const front = startBento(runtime, [...serveArgs, '--service', 'search'], {
      cwd,
      env: { BENTO_DEPENDS: `embedder=${modelUrl}`, EMBEDDER_TOKEN: token },
    })
    const url = await front.url(60_000)
    const searchClient = client<typeof search>(url)
    const found = await searchClient.search({ q: 'two machines' })
    expect(found.vector).toEqual([12, 1])
    expect((await get(url, '/readyz')).body.dependencies).toEqual([
      { service: 'embedder', ready: true },
    ])
    // The typed client streams, and cancels.
    const embedderClient = client<typeof embedder>(modelUrl, {
      timeout: 5_000,
      headers: { authorization: `Bearer ${token}` },
    })
    const words: string[] = []
    for await (const word of embedderClient.tokens({ text: 'one two three' })) words.push(word)
    expect(words).toEqual(['one', 'two', 'three'])
    const stop = new AbortController()
    const hanging = embedderClient.hang({ id: 'client' }, { signal: stop.signal })
    await model.waitFor(/hang started id=client/)
    stop.abort()
    await expect(hanging).rejects.toMatchObject({ name: 'AbortError' })
    await expect(embedderClient.hang({ id: 'slow' }, { timeout: 300 })).rejects.toMatchObject({
      name: 'CallError',
      status: 504,
    })

    // With the dependency gone, readiness says so within its own timeout instead of hanging,
    // and calls fail with a 503 naming it.
    expect((await model.stop()).code).toBe(0)
    const notReady = await get(url, '/readyz', AbortSignal.timeout(5_000))
    expect(notReady.status).toBe(503)
    expect(notReady.body.notReady).toEqual(['embedder'])
    const failed = await post(url, '/search', { q: 'x' })
    expect(failed.status).toBe(503)
    expect(failed.body.dependency).toMatchObject({ service: 'embedder', status: 503 })
    expect((await front.stop()).code).toBe(0)
  })
})

// Refused while the entry loads, before any process is started: the same code on every runtime,
// so these run once, on Node.
describe('a graph that cannot be served', () => {
  const runtime = 'node'
  it.each([
    ['cycle.ts', /service "a": depends makes a cycle: a -> b -> a/],
    ['duplicate.ts', /service "model": name is the name of two different services/],
    ['not-a-service.ts', /service "api": depends\.embedder must be a service or depends\(service/],
  ])('refuses %s before starting a worker', async (file, message) => {
    const bento = startBento(runtime, ['serve', file, '--port', '0'], { cwd })
    const { code } = await bento.exited
    expect(code).toBe(1)
    expect(bento.output).toMatch(message)
    expect(bento.output).not.toMatch(/starting \d+ \w+ workers/)
  })

  it('refuses a --service or an address the graph does not have', async () => {
    const unknown = startBento(runtime, [...serveArgs, '--service', 'ranker'], { cwd })
    expect((await unknown.exited).code).toBe(1)
    expect(unknown.output).toMatch(/service is "ranker", which this entry does not serve/)
    const stray = startBento(runtime, [...serveArgs, '--depends', 'ranker=http://127.0.0.1:1'], {
      cwd,
    })
    expect((await stray.exited).code).toBe(1)
    expect(stray.output).toMatch(/"ranker", which is not a dependency of this entry/)
    const alone = startBento(runtime, [...serveArgs, '--service', 'search'], { cwd })
    expect((await alone.exited).code).toBe(1)
    expect(alone.output).toMatch(/depends\.embedder has no address, and "search" is served alone/)
  })
})

describe('typed calls', () => {
  const tsc = `${repoRoot}node_modules/.bin/tsc`
  const run = promisify(execFile)

  it('refuses to compile a call with the wrong input type', async () => {
    const failed = await run(tsc, ['-p', 'tsconfig.wrong.json'], { cwd }).then(
      () => undefined,
      (error: { stdout: string }) => error.stdout
    )
    expect(failed).toMatch(/typed-wrong\.ts\(12,\d+\): error TS\d+: .*'txt' does not exist/)
  })

  it('compiles the same call with the right input, typed from the callee', async () => {
    await expect(run(tsc, ['-p', 'tsconfig.right.json'], { cwd })).resolves.toBeDefined()
  })
})
