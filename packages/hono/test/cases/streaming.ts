// Streaming: server-sent events framing, raw text, errors, and a client that goes away.
import { type ApiContext, api, HttpError, service } from '@bento/core'
import { z } from 'zod'
import { sse, toHono } from '../../src/index.ts'
import { assert, call, define, expectError, quietErrors, unique, until } from '../harness.ts'

/** Splits an SSE body into its events, each a list of `field: value` lines. */
function events(text: string): string[][] {
  assert.ok(text.endsWith('\n\n'), 'the stream ends with a complete event')
  return text
    .slice(0, -2)
    .split('\n\n')
    .map((event) => event.split('\n'))
}

export default define('streaming', (test) => {
  test('an async iterable streams as server-sent events with proper framing', async () => {
    const s = service({
      name: unique('sse'),
      apis: {
        tokens: api({
          handler: async function* () {
            yield 'Hello'
            yield 'two\nlines\r\nand\rthree'
            yield { token: 'x', n: 1 }
            yield sse({ event: 'done', id: '7', retry: 1500, data: { finished: true } })
          },
        }),
      },
    })
    const answer = await call(toHono(s), 'POST', '/tokens')
    assert.equal(answer.status, 200)
    assert.match(answer.headers.get('content-type') ?? '', /^text\/event-stream/)
    assert.equal(answer.headers.get('cache-control'), 'no-cache')
    assert.ok(answer.headers.get('x-request-id'))
    assert.deepEqual(events(answer.text), [
      ['data: Hello'],
      ['data: two', 'data: lines', 'data: and', 'data: three'],
      ['data: {"token":"x","n":1}'],
      ['event: done', 'data: {"finished":true}', 'id: 7', 'retry: 1500'],
    ])
  })

  test('an error mid-stream ends it with an error event carrying the request id', async () => {
    const log = quietErrors()
    const s = service({
      name: unique('sse-error'),
      apis: {
        tokens: api({
          handler: async function* () {
            yield 'one'
            throw new Error('GPU fell off')
          },
        }),
      },
    })
    const prod = await call(toHono(s, { dev: false, ...log }), 'POST', '/tokens', undefined, {
      'x-request-id': 'sse-1',
    })
    const [first, last] = events(prod.text)
    assert.deepEqual(first, ['data: one'])
    assert.equal(last![0], 'event: error')
    assert.deepEqual(JSON.parse(last![1]!.slice('data: '.length)), {
      error: 'internal server error',
      requestId: 'sse-1',
    })
    assert.equal(log.errors.length, 1)

    const dev = await call(toHono(s, { dev: true, ...log }), 'POST', '/tokens')
    assert.match(dev.text, /GPU fell off/)
  })

  test('an error before the first chunk gets its own status, not a 200 stream', async () => {
    const s = service({
      name: unique('sse-early'),
      apis: {
        tokens: api({
          handler: async function* (input: unknown) {
            if (input === undefined) throw new HttpError(429, 'slow down')
            yield 'not reached'
          },
        }),
      },
    })
    expectError(await call(toHono(s), 'POST', '/tokens'), 429, /slow down/)
  })

  test("stream: 'text' sends strings raw", async () => {
    const s = service({
      name: unique('text'),
      apis: {
        story: api({
          stream: 'text',
          handler: async function* () {
            yield 'Once '
            yield 'upon\n'
            yield 'a time'
          },
        }),
      },
    })
    const answer = await call(toHono(s), 'POST', '/story')
    assert.equal(answer.status, 200)
    assert.equal(answer.headers.get('content-type'), 'text/plain; charset=utf-8')
    assert.equal(answer.text, 'Once upon\na time')
  })

  test("stream: 'text' sends bytes as bytes and objects as JSON lines", async () => {
    const s = service({
      name: unique('bytes'),
      apis: {
        bytes: api({
          stream: 'text',
          handler: async function* () {
            yield new Uint8Array([104, 105])
            yield new Uint8Array([33])
          },
        }),
        lines: api({
          stream: 'text',
          handler: async function* () {
            yield { a: 1 }
            yield { b: 2 }
          },
        }),
      },
    })
    const app = toHono(s)
    const bytes = await app.request('/bytes', { method: 'POST' })
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream')
    assert.equal(await bytes.text(), 'hi!')
    const lines = await call(app, 'POST', '/lines')
    assert.equal(lines.headers.get('content-type'), 'application/x-ndjson')
    assert.equal(lines.text, '{"a":1}\n{"b":2}\n')
  })

  test('a handler returning a promise of an iterable streams too', async () => {
    const s = service({
      name: unique('promised'),
      apis: {
        later: api({
          handler: async () => {
            await Promise.resolve()
            return (async function* () {
              yield 1
              yield 2
            })()
          },
        }),
      },
    })
    const answer = await call(toHono(s), 'POST', '/later')
    assert.equal(answer.text, 'data: 1\n\ndata: 2\n\n')
  })

  test('in development each streamed chunk is checked against the output schema', async () => {
    const log = quietErrors()
    const s = service({
      name: unique('checked'),
      apis: {
        tokens: api({
          output: z.object({ token: z.string() }),
          handler: async function* () {
            yield { token: 'ok' }
            yield { token: 3 }
          },
        }),
      },
    })
    const answer = await call(toHono(s, { dev: true, ...log }), 'POST', '/tokens')
    const [first, last] = events(answer.text)
    assert.deepEqual(first, ['data: {"token":"ok"}'])
    assert.equal(last![0], 'event: error')
    assert.match(last![1]!, /does not match its output schema/)
  })

  test('HEAD on a streaming GET API closes the iterator instead of leaving it suspended', async () => {
    let finallyRan = false
    const s = service({
      name: unique('head'),
      traffic: { maxConcurrency: 1, maxQueue: 0 },
      apis: {
        feed: api({
          method: 'GET',
          handler: async function* () {
            try {
              yield 'one'
              yield 'two'
            } finally {
              finallyRan = true
            }
          },
        }),
      },
    })
    const app = toHono(s)
    const head = await app.request('/feed', { method: 'HEAD' })
    assert.equal(head.status, 200)
    assert.match(head.headers.get('content-type') ?? '', /text\/event-stream/)
    assert.equal(await head.text(), '')
    assert.equal(finallyRan, true)
    // The permit is free again.
    assert.equal((await call(app, 'GET', '/feed')).text, 'data: one\n\ndata: two\n\n')
  })

  test('cancelling the response body aborts the signal and runs the iterator finally', async () => {
    let signal: AbortSignal | undefined
    let finallyRan = false
    let produced = 0
    const s = service({
      name: unique('cancel'),
      apis: {
        forever: api({
          handler: async function* (_input: unknown, ctx: ApiContext) {
            signal = ctx.signal
            try {
              for (;;) {
                produced++
                yield `tick ${produced}`
                await new Promise((resolve) => setTimeout(resolve, 5))
              }
            } finally {
              finallyRan = true
            }
          },
        }),
      },
    })
    const response = await toHono(s).request('/forever', { method: 'POST' })
    const reader = response.body!.getReader()
    const { value } = await reader.read()
    assert.match(new TextDecoder().decode(value), /tick 1/)
    await reader.cancel()
    await until(() => finallyRan, 2_000, "the iterator's finally")
    assert.equal(signal?.aborted, true)
    assert.ok(produced <= 3, `the handler ran ahead of the reader: ${produced} chunks`)
  })
})
