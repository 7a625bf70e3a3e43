// Adaptive batching through the adapter: requests that arrive together reach the handler as one
// array, each caller gets its own output, a failed batch fails every caller in it, and a request
// that can't be answered within maxLatencyMs is refused at once with 503.
import { api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import {
  assert,
  call,
  deferred,
  define,
  expectError,
  quietErrors,
  unique,
  until,
} from '../harness.ts'

/** A batchable echo whose first batch waits for `gate`, so that later requests pile up. */
function gatedEcho(
  options: { maxBatchSize?: number; maxLatencyMs?: number; failOn?: string } = {}
) {
  const gate = deferred<void>()
  const batches: string[][] = []
  const s = service({
    name: unique('batching'),
    apis: {
      echo: api({
        batchable: true,
        maxBatchSize: options.maxBatchSize ?? 32,
        maxLatencyMs: options.maxLatencyMs ?? 5_000,
        input: z.object({ text: z.string() }),
        handler: async (inputs: Array<{ text: string }>) => {
          batches.push(inputs.map((i) => i.text))
          if (batches.length === 1) await gate.promise
          if (inputs.some((i) => i.text === options.failOn)) throw new Error('this batch is cursed')
          return inputs.map(({ text }) => ({ echo: text.toUpperCase() }))
        },
      }),
    },
  })
  return { s, gate, batches }
}

export default define('batching', (test) => {
  test('groups requests that arrive while a batch runs, and answers each with its own output', async () => {
    const { s, gate, batches } = gatedEcho()
    const app = toHono(s)
    const first = call(app, 'POST', '/echo', { text: 'first' })
    await until(() => batches.length === 1)
    const rest = Array.from({ length: 8 }, (_, i) => call(app, 'POST', '/echo', { text: `r${i}` }))
    // Let every request reach the queue before the first batch finishes.
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    assert.deepEqual((await first).json, { echo: 'FIRST' })
    const answers = await Promise.all(rest)
    answers.forEach((answer, i) => {
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(answer.json, { echo: `R${i}` })
    })
    assert.deepEqual(batches[0], ['first'])
    assert.ok(batches.length >= 2 && batches.length <= 3, `batches: ${JSON.stringify(batches)}`)
    assert.ok(
      (batches[1]?.length ?? 0) > 1,
      `the second batch holds several requests: ${JSON.stringify(batches)}`
    )
    assert.deepEqual(
      batches.slice(1).flat().sort(),
      Array.from({ length: 8 }, (_, i) => `r${i}`)
    )
  })

  test('a batch whose handler throws fails every request in it, and the next batch works', async () => {
    const log = quietErrors()
    const { s, gate, batches } = gatedEcho({ failOn: 'bad' })
    const app = toHono(s, log)
    const first = call(app, 'POST', '/echo', { text: 'first' })
    await until(() => batches.length === 1)
    const doomed = [
      call(app, 'POST', '/echo', { text: 'ok' }),
      call(app, 'POST', '/echo', { text: 'bad' }),
    ]
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    assert.equal((await first).status, 200)
    const failed = await Promise.all(doomed)
    const ids = new Set<string>()
    for (const answer of failed) {
      const body = expectError(answer, 500, /internal/)
      ids.add(String(body.requestId))
    }
    assert.equal(ids.size, 2, 'each caller keeps its own request id')
    assert.equal(log.errors.length, 2)
    assert.deepEqual((await call(app, 'POST', '/echo', { text: 'later' })).json, { echo: 'LATER' })
  })

  test('never sends a batch larger than maxBatchSize', async () => {
    const { s, gate, batches } = gatedEcho({ maxBatchSize: 3 })
    const app = toHono(s)
    const first = call(app, 'POST', '/echo', { text: 'first' })
    await until(() => batches.length === 1)
    const rest = Array.from({ length: 7 }, (_, i) => call(app, 'POST', '/echo', { text: `r${i}` }))
    await new Promise((resolve) => setTimeout(resolve, 50))
    gate.resolve()
    await first
    for (const answer of await Promise.all(rest)) assert.equal(answer.status, 200)
    assert.ok(Math.max(...batches.map((b) => b.length)) <= 3, JSON.stringify(batches))
  })

  test('refuses with 503 and Retry-After a request that cannot be answered within maxLatencyMs', async () => {
    let calls = 0
    // The sixth batch is held until the test lets it go: however slow the machine, the two
    // requests behind it are queued while it runs (with a timer, a busy machine could finish it
    // before the last one arrived, which then fitted).
    let release = () => {}
    const held = new Promise<void>((resolve) => {
      release = resolve
    })
    const s = service({
      name: unique('batching-shed'),
      apis: {
        slow: api({
          batchable: true,
          maxBatchSize: 1,
          maxLatencyMs: 150,
          handler: async (inputs: unknown[]) => {
            calls++
            await (calls === 6 ? held : new Promise((resolve) => setTimeout(resolve, 100)))
            return inputs.map(() => ({ ok: true }))
          },
        }),
      },
    })
    const app = toHono(s)
    // Batches one after another teach the dispatcher that a batch takes about 100 ms: it refuses
    // nothing before it has that evidence (the first batch, a warm-up, is not counted).
    for (let i = 0; i < 5; i++) assert.equal((await call(app, 'POST', '/slow', {})).status, 200)
    const inFlight = call(app, 'POST', '/slow', {})
    await until(() => calls === 6)
    // Behind a batch of at least 100 ms in flight, one more fits in 150 ms only barely; the one
    // after it never does.
    const queued = call(app, 'POST', '/slow', {})
    const late = await call(app, 'POST', '/slow', {})
    const body = expectError(late, 503, /maxLatencyMs/)
    assert.ok(Number(late.headers.get('retry-after')) >= 1)
    assert.equal(typeof body.requestId, 'string')
    release()
    assert.equal((await inFlight).status, 200)
    await queued
    assert.ok(calls <= 7, `the refused request never reached the handler (${calls} calls)`)
  })

  test("a request's short deadline costs only its own item: the batch's calls last as long as the longest", async () => {
    const model = service({
      name: unique('batch-model'),
      apis: {
        wait: api({
          input: z.object({ ms: z.number() }),
          handler: async ({ ms }, ctx) => {
            await new Promise<void>((resolve, reject) => {
              const timer = setTimeout(resolve, ms)
              ctx.signal.addEventListener('abort', () => {
                clearTimeout(timer)
                reject(ctx.signal.reason)
              })
            })
            return { waited: ms }
          },
        }),
      },
    })
    const gate = deferred<void>()
    const batches: { ids: string[]; aborted: boolean[] }[] = []
    let validated = 0
    const s = service({
      name: unique('batch-caller'),
      apis: {
        score: api({
          batchable: true,
          depends: { model },
          maxLatencyMs: 5_000,
          input: z.object({ text: z.string() }).transform((v) => {
            validated++
            return v
          }),
          handler: async (inputs: Array<{ text: string }>, ctx) => {
            batches.push({
              ids: ctx.items.map((item) => item.requestId),
              aborted: ctx.items.map((item) => item.signal.aborted),
            })
            if (batches.length === 1) {
              await gate.promise
              return inputs.map(({ text }) => ({ text, waited: 0 }))
            }
            // One call for the whole batch, as a model tier is called.
            const { waited } = await ctx.depends.model.wait({ ms: 1_200 })
            return inputs.map(({ text }) => ({ text, waited }))
          },
        }),
      },
    })
    const app = toHono(s, { dependencies: 'in-process', ...quietErrors() })
    const first = call(app, 'POST', '/score', { text: 'first' }, { 'x-request-id': 'req-first' })
    await until(() => batches.length === 1)
    // A asks for 800 ms; B has the service's 60 s. Both wait behind the first batch (however slow
    // the machine, A is queued long before its time is up: the gate opens once both are).
    const a = call(
      app,
      'POST',
      '/score',
      { text: 'a' },
      {
        'x-request-id': 'req-a',
        'bento-timeout': '800',
      }
    )
    const b = call(app, 'POST', '/score', { text: 'b' }, { 'x-request-id': 'req-b' })
    await until(() => validated === 3)
    gate.resolve()
    assert.equal((await first).status, 200)
    expectError(await a, 504, /no answer within the 0\.8 s timeout/)
    const answer = await b
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json, { text: 'b', waited: 1_200 })
    // They were one batch, whose handler saw each request's own id, in the order of the inputs.
    assert.deepEqual(batches[1], { ids: ['req-a', 'req-b'], aborted: [false, false] })
  })

  test('/metrics reports batch sizes and how long requests waited for their batch', async () => {
    const { s, gate, batches } = gatedEcho()
    const app = toHono(s)
    const first = call(app, 'POST', '/echo', { text: 'first' })
    await until(() => batches.length === 1)
    const rest = Array.from({ length: 4 }, (_, i) => call(app, 'POST', '/echo', { text: `m${i}` }))
    await new Promise((resolve) => setTimeout(resolve, 30))
    gate.resolve()
    await Promise.all([first, ...rest])
    const { text } = await call(app, 'GET', '/metrics')
    assert.match(text, /# TYPE bento_batch_size histogram/)
    assert.match(text, /# TYPE bento_batch_queue_seconds histogram/)
    const count = text.match(/^bento_batch_queue_seconds_count\{[^}]*api="echo"[^}]*\} (\d+)/m)
    assert.equal(Number(count?.[1]), 5)
    const sizes = text.match(/^bento_batch_size_sum\{[^}]*api="echo"[^}]*\} (\d+)/m)
    assert.equal(Number(sizes?.[1]), 5)
    const calls = text.match(/^bento_batch_size_count\{[^}]*api="echo"[^}]*\} (\d+)/m)
    assert.ok(Number(calls?.[1]) < 5, 'fewer handler calls than requests')
  })
})
