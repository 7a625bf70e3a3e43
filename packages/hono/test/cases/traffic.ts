// Traffic: timeouts, concurrency, the queue, load shedding, and batchable APIs.
import { type ApiContext, api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import {
  assert,
  call,
  deferred,
  define,
  eventually,
  expectError,
  queueDepth,
  quietErrors,
  sleep,
  unique,
  until,
} from '../harness.ts'

/** A service whose `hold` API waits for the test to release it, recording the order handlers start. */
function gated(traffic: { timeout?: number; maxConcurrency?: number; maxQueue?: number }) {
  const gates = new Map<number, ReturnType<typeof deferred<void>>>()
  const started: number[] = []
  const returned: number[] = []
  const signals = new Map<number, AbortSignal>()
  const s = service({
    name: unique('gated'),
    traffic,
    apis: {
      hold: api({
        input: z.object({ n: z.number() }),
        handler: async ({ n }: { n: number }, ctx: ApiContext) => {
          started.push(n)
          signals.set(n, ctx.signal)
          const gate = deferred<void>()
          gates.set(n, gate)
          await gate.promise
          returned.push(n)
          return { n }
        },
      }),
      quick: api({ handler: () => ({ quick: true }) }),
    },
  })
  const release = (n: number) => {
    const gate = gates.get(n)
    assert.ok(gate, `handler ${n} has not started`)
    gate.resolve()
  }
  return { s, started, returned, signals, release }
}

export default define('traffic', (test) => {
  test('a timeout gets 504, aborts the signal, and holds the permit until the handler returns', async () => {
    const g = gated({ timeout: 0.05, maxConcurrency: 1, maxQueue: 0 })
    const app = toHono(g.s)
    const slow = await call(app, 'POST', '/hold', { n: 1 })
    expectError(slow, 504, /no answer within the 0.05 s timeout/)
    const signal = g.signals.get(1)!
    assert.equal(signal.aborted, true)
    assert.equal((signal.reason as DOMException).name, 'TimeoutError')
    assert.deepEqual(g.returned, [], 'the handler is still running')

    // The model is still busy: the permit is not free, and with no queue the next request is shed.
    const shed = await call(app, 'POST', '/quick')
    expectError(shed, 503, /at capacity/)
    assert.equal(shed.headers.get('retry-after'), '1')

    g.release(1)
    await until(() => g.returned.length === 1)
    await sleep(1)
    const after = await call(app, 'POST', '/quick')
    assert.equal(after.status, 200, 'the permit is free once the handler returned')
  })

  test('maxConcurrency admits that many, queues maxQueue more first come first served, sheds the rest', async () => {
    const g = gated({ maxConcurrency: 2, maxQueue: 2 })
    const app = toHono(g.s)
    const pending = new Map<number, Promise<Awaited<ReturnType<typeof call>>>>()
    const send = (n: number) => pending.set(n, call(app, 'POST', '/hold', { n }))
    send(1)
    await until(() => g.started.length === 1)
    send(2)
    await until(() => g.started.length === 2)
    send(3)
    await eventually(async () => (await queueDepth(app)) === 1, 2_000, 'request 3 to queue')
    send(4)
    await eventually(async () => (await queueDepth(app)) === 2, 2_000, 'request 4 to queue')
    assert.deepEqual(g.started, [1, 2], 'two run, two wait')

    const shed = await call(app, 'POST', '/hold', { n: 5 })
    expectError(shed, 503, /at capacity \(2 running, 2 waiting\)/)
    assert.equal(shed.headers.get('retry-after'), '1')

    g.release(2)
    await until(() => g.started.length === 3)
    assert.deepEqual(g.started, [1, 2, 3], 'the first in line goes first')
    g.release(1)
    await until(() => g.started.length === 4)
    assert.deepEqual(g.started, [1, 2, 3, 4])
    g.release(3)
    g.release(4)
    for (const n of [1, 2, 3, 4]) {
      const answer = await pending.get(n)!
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(answer.json, { n })
    }
  })

  test('a queued request that outlasts the timeout gets 504 and never runs', async () => {
    const g = gated({ timeout: 0.08, maxConcurrency: 1, maxQueue: 1 })
    const app = toHono(g.s)
    const first = call(app, 'POST', '/hold', { n: 1 })
    await until(() => g.started.length === 1)
    const queued = await call(app, 'POST', '/hold', { n: 2 })
    expectError(queued, 504, /timeout/)
    // The first request's own deadline fell within a millisecond of the queued one's: which timer
    // fires first is the runtime's choice, so its 504 is awaited before the handler is let go.
    assert.equal((await first).status, 504)
    g.release(1)
    await sleep(20)
    assert.deepEqual(g.started, [1], 'the timed-out request never reached its handler')
  })

  test('a client that leaves while queued gives up its place', async () => {
    const g = gated({ maxConcurrency: 1, maxQueue: 1 })
    const app = toHono(g.s)
    const first = call(app, 'POST', '/hold', { n: 1 })
    await until(() => g.started.length === 1)
    const controller = new AbortController()
    const leaving = app.request(
      new Request('http://localhost/hold', {
        method: 'POST',
        body: JSON.stringify({ n: 2 }),
        headers: { 'content-type': 'application/json' },
        signal: controller.signal,
      })
    )
    await sleep(10)
    controller.abort()
    await leaving
    // Its place is free again: another request can queue.
    const third = call(app, 'POST', '/hold', { n: 3 })
    await sleep(10)
    g.release(1)
    await until(() => g.started.length === 2)
    assert.deepEqual(g.started, [1, 3])
    g.release(3)
    assert.equal((await first).status, 200)
    assert.equal((await third).status, 200)
  })

  test('health, readiness and metrics answer while every permit and the queue are full', async () => {
    const g = gated({ maxConcurrency: 1, maxQueue: 0 })
    const app = toHono(g.s)
    const busy = call(app, 'POST', '/hold', { n: 1 })
    await until(() => g.started.length === 1)
    expectError(await call(app, 'POST', '/quick'), 503, /at capacity/)
    for (const path of ['/livez', '/healthz', '/readyz', '/metrics', '/docs.json']) {
      const answer = await call(app, 'GET', path)
      assert.equal(answer.status, 200, `${path}: ${answer.text}`)
    }
    g.release(1)
    assert.equal((await busy).status, 200)
  })

  test('a lone request to a batchable API goes as a batch of one and gets its single output', async () => {
    const batches: unknown[][] = []
    const s = service({
      name: unique('batch'),
      apis: {
        embed: api({
          batchable: true,
          input: z.object({ text: z.string() }),
          handler: async (inputs: Array<{ text: string }>) => {
            batches.push(inputs)
            return inputs.map(({ text }) => ({ length: text.length }))
          },
        }),
        broken: api({ batchable: true, handler: (inputs: unknown[]) => [...inputs, ...inputs] }),
      },
    })
    const log = quietErrors()
    const app = toHono(s, { dev: true, ...log })
    const answer = await call(app, 'POST', '/embed', { text: 'four' })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json, { length: 4 })
    assert.deepEqual(batches, [[{ text: 'four' }]])
    const broken = expectError(await call(app, 'POST', '/broken', { x: 1 }), 500, /internal/)
    assert.match(String(broken.message), /must return one output per input/)
  })
})
