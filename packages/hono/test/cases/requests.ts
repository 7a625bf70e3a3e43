// Requests: routing, bodies (JSON, forms, files), validation, limits, request ids, ctx.
import { type ApiContext, api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectError, expectSubset, unique } from '../harness.ts'
import { greeter, libraries } from '../services.ts'

export default define('requests', (test) => {
  for (const library of libraries) {
    test(`${library}: a valid body gets 200 with the handler's JSON`, async () => {
      const app = toHono(greeter(library))
      const answer = await call(app, 'POST', '/greet', { name: 'Ada', times: 2 })
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(answer.json, { message: 'Hello, Ada!Hello, Ada!' })
      assert.match(answer.headers.get('x-request-id') ?? '', /^[\w-]{8,}$/)
    })

    test(`${library}: an invalid body gets 400 listing each issue's path and message`, async () => {
      const app = toHono(greeter(library))
      const answer = await call(app, 'POST', '/greet', {
        name: '',
        times: 1.5,
        tags: [{ label: 3 }],
      })
      const body = expectError(answer, 400, /invalid input/)
      const issues = body.issues as Array<{ path: string; message: string }>
      assert.deepEqual(issues.map((issue) => issue.path).sort(), ['name', 'tags.0.label', 'times'])
      for (const issue of issues) assert.ok(issue.message.length > 0)
      assert.deepEqual(Object.keys(body), ['error', 'issues', 'requestId'])
    })

    test(`${library}: a GET API takes its input from the query string`, async () => {
      const app = toHono(greeter(library))
      const answer = await call(app, 'GET', '/hello?name=Grace')
      assert.equal(answer.status, 200, answer.text)
      assert.deepEqual(answer.json, { message: 'Hi Grace' })
      expectError(await call(app, 'GET', '/hello'), 400, /invalid input/)
    })
  }

  test('malformed JSON gets 400', async () => {
    const app = toHono(greeter('zod'))
    const answer = await call(app, 'POST', '/greet', '{"name":', {
      'content-type': 'application/json',
    })
    const body = expectError(answer, 400, /invalid JSON/)
    assert.equal((body.issues as unknown[]).length, 1)
  })

  test('application/*+json is JSON', async () => {
    const app = toHono(greeter('zod'))
    const answer = await call(app, 'POST', '/greet', '{"name":"Ada"}', {
      'content-type': 'application/vnd.api+json; charset=utf-8',
    })
    assert.equal(answer.status, 200, answer.text)
  })

  test('an unknown route gets 404 JSON', async () => {
    const app = toHono(greeter('zod'))
    expectError(await call(app, 'POST', '/nope'), 404, /no route POST \/nope/)
    expectError(await call(app, 'GET', '/greet/extra'), 404, /no route/)
  })

  test('a wrong method gets 405 JSON with an Allow header', async () => {
    const app = toHono(greeter('zod'))
    const answer = await call(app, 'GET', '/greet')
    expectError(answer, 405, /GET is not allowed/)
    assert.equal(answer.headers.get('allow'), 'POST')
    const get = await call(app, 'DELETE', '/hello')
    expectError(get, 405, /DELETE is not allowed/)
    assert.equal(get.headers.get('allow'), 'GET, HEAD')
  })

  test('an unsupported content type gets 415', async () => {
    const app = toHono(greeter('zod'))
    const answer = await call(app, 'POST', '/greet', 'name=Ada', { 'content-type': 'text/plain' })
    expectError(answer, 415, /unsupported content type \(text\/plain\)/)
  })

  test('a body with no content type gets 415, an empty one is no input', async () => {
    let seen: unknown = 'unset'
    const s = service({
      name: unique('untyped'),
      apis: {
        echo: api({
          handler: (input) => {
            seen = input
            return 'ok'
          },
        }),
      },
    })
    const app = toHono(s)
    const bytes = new TextEncoder().encode('{"a":1}')
    const stream = new ReadableStream({
      start: (c) => {
        c.enqueue(bytes)
        c.close()
      },
    })
    expectError(await call(app, 'POST', '/echo', stream), 415, /no Content-Type/)
    assert.equal((await call(app, 'POST', '/echo')).status, 200)
    assert.equal(seen, undefined)
  })

  test('a declared Content-Length over the limit gets 413 without the body being read', async () => {
    let pulled = 0
    const body = new ReadableStream({
      pull(controller) {
        pulled++
        controller.enqueue(new Uint8Array(1024))
      },
    })
    const app = toHono(greeter('zod'), { bodyLimit: '1Ki' })
    const answer = await call(app, 'POST', '/greet', body, {
      'content-type': 'application/json',
      'content-length': String(2048),
    })
    expectError(answer, 413, /larger than the limit of 1 KiB/)
    // A ReadableStream pulls once to fill its queue on creation; nothing more was asked of it.
    assert.ok(pulled <= 1, `the body was read: ${pulled} pulls`)
  })

  test('a chunked body is counted as it streams and refused at the limit', async () => {
    let pulled = 0
    const body = new ReadableStream({
      pull(controller) {
        pulled++
        if (pulled > 1000) controller.close()
        else controller.enqueue(new TextEncoder().encode(' '.repeat(512)))
      },
    })
    const app = toHono(greeter('zod'), { bodyLimit: 4096 })
    const answer = await call(app, 'POST', '/greet', body, { 'content-type': 'application/json' })
    expectError(answer, 413, /larger than the limit of 4 KiB/)
    assert.ok(pulled < 20, `read ${pulled} chunks of an endless body`)
  })

  test('a chunked body within the limit is parsed', async () => {
    const text = JSON.stringify({ name: 'Ada' })
    const body = new ReadableStream({
      start(controller) {
        controller.enqueue(new TextEncoder().encode(text.slice(0, 5)))
        controller.enqueue(new TextEncoder().encode(text.slice(5)))
        controller.close()
      },
    })
    const app = toHono(greeter('zod'), { bodyLimit: 64 })
    const answer = await call(app, 'POST', '/greet', body, { 'content-type': 'application/json' })
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json, { message: 'Hello, Ada!' })
  })

  test("the service's http.bodyLimit applies, and toHono's bodyLimit overrides it", async () => {
    const s = service({
      name: unique('limited'),
      http: { bodyLimit: '1Ki' },
      apis: { echo: api({ handler: (input: unknown) => ({ got: input }) }) },
    })
    const big = { text: 'x'.repeat(2000) }
    expectError(await call(toHono(s), 'POST', '/echo', big), 413, /limit of 1 KiB/)
    const wider = await call(toHono(s, { bodyLimit: '4Ki' }), 'POST', '/echo', big)
    assert.equal(wider.status, 200, wider.text)
  })

  test("a form with more fields than the service's http.maxFormFields gets 413 before it is parsed", async () => {
    const s = service({
      name: unique('fields'),
      http: { maxFormFields: 3 },
      apis: {
        count: api({
          forms: true,
          handler: (input: Record<string, unknown>) => Object.keys(input).length,
        }),
      },
    })
    const app = toHono(s)
    const urlEncoded = { 'content-type': 'application/x-www-form-urlencoded' }
    const three = await call(app, 'POST', '/count', 'a=1&b=2&&c=3', urlEncoded)
    assert.equal(three.status, 200, three.text)
    assert.equal(three.json, 3)
    const four = await call(app, 'POST', '/count', 'a=1&b=2&c=3&d=4', urlEncoded)
    expectError(four, 413, /more than 3 fields, the service's http.maxFormFields/)
    for (const [n, status] of [
      [3, 200],
      [4, 413],
    ] as const) {
      const form = new FormData()
      for (let i = 0; i < n; i++) form.append(`f${i}`, String(i))
      const answer = await call(app, 'POST', '/count', form)
      assert.equal(answer.status, status, `${n} multipart fields: ${answer.text}`)
    }
  })

  test('multipart/form-data delivers fields as strings and files as File', async () => {
    const s = service({
      name: unique('upload'),
      apis: {
        upload: api({
          input: z.object({
            image: z.instanceof(File),
            caption: z.string(),
            tag: z.array(z.string()),
            scale: z.coerce.number(),
          }),
          handler: async ({ image, caption, tag, scale }) => ({
            name: image.name,
            type: image.type,
            size: image.size,
            text: await image.text(),
            caption,
            tag,
            scale,
          }),
        }),
      },
    })
    const form = new FormData()
    form.append('image', new File(['pixels'], 'cat.png', { type: 'image/png' }))
    form.append('caption', 'a cat')
    form.append('tag', 'a')
    form.append('tag', 'b')
    form.append('scale', '1.5')
    const answer = await call(toHono(s), 'POST', '/upload', form)
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json, {
      name: 'cat.png',
      type: 'image/png',
      size: 6,
      text: 'pixels',
      caption: 'a cat',
      tag: ['a', 'b'],
      scale: 1.5,
    })
  })

  test('a form is refused with 415 unless the API takes forms or its input has a file', async () => {
    // A cross-site page can post a form without the browser asking first (no CORS preflight):
    // an API that never meant to take one refuses it before reading it.
    const refused = toHono(greeter('zod'))
    const urlEncoded = { 'content-type': 'application/x-www-form-urlencoded' }
    expectError(
      await call(refused, 'POST', '/greet', 'name=Ada', urlEncoded),
      415,
      /this API takes JSON, not application\/x-www-form-urlencoded: send application\/json \(an API takes forms when its input has a file, or with forms: true\)/
    )
    const multipart = new FormData()
    multipart.append('name', 'Ada')
    expectError(await call(refused, 'POST', '/greet', multipart), 415, /not multipart\/form-data/)
    const opted = service({
      name: unique('forms'),
      apis: {
        greet: api({
          forms: true,
          input: z.object({ name: z.string() }),
          handler: ({ name }) => ({ message: `Hello, ${name}!` }),
        }),
      },
    })
    const answer = await call(toHono(opted), 'POST', '/greet', 'name=Ada', urlEncoded)
    assert.equal(answer.status, 200, answer.text)
    assert.deepEqual(answer.json, { message: 'Hello, Ada!' })
  })

  test('a form field named __proto__ stays an own property', async () => {
    let seen: Record<string, unknown> = {}
    const s = service({
      name: unique('proto'),
      apis: {
        echo: api({
          forms: true,
          handler: (input) => {
            seen = input as Record<string, unknown>
            return 'ok'
          },
        }),
      },
    })
    const form = new FormData()
    form.append('__proto__', 'polluted')
    assert.equal((await call(toHono(s), 'POST', '/echo', form)).status, 200)
    assert.equal(Object.getPrototypeOf(seen), Object.prototype)
    assert.equal(Object.getOwnPropertyDescriptor(seen, '__proto__')?.value, 'polluted')
  })

  test('generated request ids are unique', async () => {
    const app = toHono(greeter('zod'))
    const ids = new Set<string>()
    for (let i = 0; i < 50; i++)
      ids.add((await call(app, 'GET', '/livez')).headers.get('x-request-id')!)
    assert.equal(ids.size, 50)
  })

  test('a sane incoming x-request-id is kept, anything else replaced', async () => {
    const app = toHono(greeter('zod'))
    const kept = await call(app, 'POST', '/greet', { name: 'Ada' }, { 'x-request-id': 'abc-123' })
    assert.equal(kept.headers.get('x-request-id'), 'abc-123')
    const replaced = await call(app, 'POST', '/nope', undefined, {
      'x-request-id': 'bad id <script>',
    })
    const id = replaced.headers.get('x-request-id') ?? ''
    assert.notEqual(id, 'bad id <script>')
    assert.match(id, /^[0-9a-f]{16}-[0-9a-z]+$/)
    assert.equal((replaced.json as { requestId: string }).requestId, id)
  })

  test('the handler gets ctx: worker, request id, headers, signal and the startup state', async () => {
    let ctx: ApiContext<{ model: string }> | undefined
    let startups = 0
    const s = service({
      name: unique('ctx'),
      onStartup: async (worker) => {
        startups++
        return { model: `model-for-${worker.workerIndex}` }
      },
      apis: {
        look: api({
          handler: (_input: unknown, context: ApiContext<{ model: string }>) => {
            ctx = context
            return { ok: true }
          },
        }),
      },
    })
    const app = toHono(s)
    assert.equal(startups, 0, 'onStartup ran before any request')
    const answer = await call(app, 'POST', '/look', undefined, {
      'x-request-id': 'req-1',
      'x-extra': 'yes',
    })
    assert.equal(answer.status, 200)
    await call(app, 'POST', '/look')
    assert.equal(startups, 1, 'onStartup ran once')
    assert.ok(ctx)
    expectSubset(ctx, {
      workerIndex: 1,
      workerCount: 1,
      threads: 1,
      state: { model: 'model-for-1' },
    })
    assert.ok(Array.isArray(ctx.gpus))
    assert.equal(ctx.headers.get('x-extra'), null, 'ctx is the second request')
    assert.ok(ctx.signal instanceof AbortSignal)
    assert.equal(ctx.signal.aborted, false)
  })

  test('a handler that reads ctx.headers and ctx.requestId sees its own request', async () => {
    const s = service({
      name: unique('headers'),
      apis: {
        who: api({
          handler: (_i: unknown, ctx) => ({
            id: ctx.requestId,
            agent: ctx.headers.get('user-agent'),
          }),
        }),
      },
    })
    const answer = await call(toHono(s), 'POST', '/who', undefined, {
      'user-agent': 'tester',
      'x-request-id': 'r-9',
    })
    assert.deepEqual(answer.json, { id: 'r-9', agent: 'tester' })
  })
})
