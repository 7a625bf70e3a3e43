// Errors: throwing handlers, HttpError statuses, output validation in development.
import { api, HttpError, service } from '@bento/core'
import { HTTPException } from 'hono/http-exception'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectError, quietErrors, unique } from '../harness.ts'

function throwing(error: unknown) {
  return service({
    name: unique('throwing'),
    apis: {
      fail: api({
        handler: () => {
          throw error
        },
      }),
      failLater: api({
        handler: async () => {
          await Promise.resolve()
          throw error
        },
      }),
    },
  })
}

export default define('errors', (test) => {
  test('a throwing handler gets 500 with the request id and no details in production', async () => {
    const log = quietErrors()
    const app = toHono(throwing(new Error('secret database password')), { dev: false, ...log })
    for (const route of ['/fail', '/failLater']) {
      const answer = await call(app, 'POST', route, undefined, {
        'x-request-id': `id-${route.slice(1)}`,
      })
      const body = expectError(answer, 500, /^internal server error$/)
      assert.equal(body.requestId, `id-${route.slice(1)}`)
      assert.doesNotMatch(answer.text, /secret/)
      assert.equal(body.stack, undefined)
    }
    assert.equal(log.errors.length, 2, 'each 500 is logged')
  })

  test('in development a 500 carries the message and stack', async () => {
    const log = quietErrors()
    const app = toHono(throwing(new Error('model exploded')), { dev: true, ...log })
    const body = expectError(await call(app, 'POST', '/failLater'), 500, /internal server error/)
    assert.equal(body.message, 'model exploded')
    assert.match(String(body.stack), /model exploded/)
  })

  test('a thrown non-Error still gets a 500', async () => {
    const log = quietErrors()
    const app = toHono(throwing('just a string'), { dev: true, ...log })
    const body = expectError(await call(app, 'POST', '/fail'), 500, /internal server error/)
    assert.equal(body.message, 'just a string')
  })

  for (const status of [400, 401, 403, 404, 409, 422, 429, 503]) {
    test(`HttpError(${status}) chooses the status and adds its details`, async () => {
      const log = quietErrors()
      const app = toHono(
        throwing(new HttpError(status, `status ${status}`, { hint: 'h', requestId: 'spoof' })),
        log
      )
      const answer = await call(app, 'POST', '/failLater')
      const body = expectError(answer, status, new RegExp(`^status ${status}$`))
      assert.equal(body.hint, 'h')
      assert.notEqual(body.requestId, 'spoof')
      assert.equal(log.errors.length, 0, 'a chosen status is not an error to log')
    })
  }

  test("Hono's HTTPException keeps its status", async () => {
    const app = toHono(throwing(new HTTPException(401, { message: 'who are you' })))
    expectError(await call(app, 'POST', '/fail'), 401, /who are you/)
  })

  test('in development an output that breaks its schema gets 500 naming the API', async () => {
    const s = service({
      name: unique('bad-output'),
      apis: {
        label: api({
          output: z.object({ label: z.string(), score: z.number() }),
          handler: () =>
            ({ label: 'cat', score: 'high' }) as unknown as { label: string; score: number },
        }),
      },
    })
    const dev = await call(toHono(s, { dev: true }), 'POST', '/label')
    const body = expectError(dev, 500, /output of API "label" does not match its output schema/)
    assert.deepEqual(
      (body.issues as Array<{ path: string }>).map((issue) => issue.path),
      ['score']
    )
    // Production does not pay for the check and sends what the handler returned.
    const prod = await call(toHono(s, { dev: false }), 'POST', '/label')
    assert.equal(prod.status, 200)
    assert.deepEqual(prod.json, { label: 'cat', score: 'high' })
  })

  test('in development a valid output is sent as the handler made it', async () => {
    const s = service({
      name: unique('good-output'),
      apis: {
        n: api({
          output: z.object({ n: z.number().transform((x) => x * 2) }),
          handler: () => ({ n: 2 }),
        }),
      },
    })
    const answer = await call(toHono(s, { dev: true }), 'POST', '/n')
    assert.deepEqual(answer.json, { n: 2 })
  })

  test('a handler may answer with its own Response, a Blob or bytes', async () => {
    const s = service({
      name: unique('raw'),
      apis: {
        response: api({
          handler: () => new Response('teapot', { status: 418, headers: { 'x-own': '1' } }),
        }),
        blob: api({ handler: () => new Blob(['<svg/>'], { type: 'image/svg+xml' }) }),
        bytes: api({ handler: () => new Uint8Array([1, 2, 3]) }),
        nothing: api({ handler: () => undefined }),
      },
    })
    const app = toHono(s)
    const response = await call(app, 'POST', '/response')
    assert.equal(response.status, 418)
    assert.equal(response.text, 'teapot')
    assert.equal(response.headers.get('x-own'), '1')
    assert.ok(response.headers.get('x-request-id'))
    const blob = await call(app, 'POST', '/blob')
    assert.equal(blob.headers.get('content-type'), 'image/svg+xml')
    assert.equal(blob.text, '<svg/>')
    const bytes = await app.request('/bytes', { method: 'POST' })
    assert.equal(bytes.headers.get('content-type'), 'application/octet-stream')
    assert.deepEqual([...new Uint8Array(await bytes.arrayBuffer())], [1, 2, 3])
    const nothing = await call(app, 'POST', '/nothing')
    assert.equal(nothing.status, 200)
    assert.equal(nothing.json, null)
  })

  test('a service whose onStartup fails answers 500', async () => {
    const log = quietErrors()
    const s = service({
      name: unique('broken-startup'),
      onStartup: () => {
        throw new Error('no model file')
      },
      apis: { a: api({ handler: () => 'never' }) },
    })
    const app = toHono(s, { dev: true, ...log })
    const body = expectError(await call(app, 'POST', '/a'), 500, /internal server error/)
    assert.equal(body.message, 'no model file')
  })
})
