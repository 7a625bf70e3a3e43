// Who may call: a bearer token on everything but the health checks, CORS for the pages a service
// names, and which operational routes the public port shows.
import { api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectError, unique } from '../harness.ts'

const greet = api({
  input: z.object({ name: z.string() }),
  handler: ({ name }) => ({ message: `Hello, ${name}!` }),
})

export default define('auth', (test) => {
  test('auth.bearer: 401 without a token or with a wrong one, health checks open', async () => {
    const s = service({
      name: unique('guarded'),
      auth: { bearer: ['old-token', 'new-token'] },
      apis: { greet },
    })
    const app = toHono(s)
    const missing = await call(app, 'POST', '/greet', { name: 'Ada' })
    expectError(missing, 401, /\/greet needs a bearer token: send Authorization: Bearer <token>/)
    assert.equal(missing.headers.get('www-authenticate'), 'Bearer')
    for (const authorization of ['Bearer wrong', 'Bearer old-token2', 'Basic b2xkLXRva2Vu']) {
      const answer = await call(app, 'POST', '/greet', { name: 'Ada' }, { authorization })
      assert.equal(answer.status, 401, `${authorization}: ${answer.text}`)
    }
    // Either token of a rotation is taken.
    for (const token of ['old-token', 'new-token']) {
      const answer = await call(
        app,
        'POST',
        '/greet',
        { name: 'Ada' },
        {
          authorization: `Bearer ${token}`,
        }
      )
      assert.equal(answer.status, 200, answer.text)
    }
    // Everything else needs it too: docs, metrics, unknown paths.
    for (const path of ['/docs.json', '/metrics', '/nope']) {
      assert.equal((await call(app, 'GET', path)).status, 401, path)
    }
    for (const path of ['/livez', '/healthz', '/readyz']) {
      assert.notEqual((await call(app, 'GET', path)).status, 401, path)
    }
  })

  test('http.cors: answers the preflight of a listed origin only, before any token', async () => {
    const s = service({
      name: unique('cors'),
      http: { cors: { origin: 'https://app.example.com' } },
      auth: { bearer: 'the-token' },
      apis: { greet },
    })
    const app = toHono(s)
    const preflight = (origin: string) =>
      call(app, 'OPTIONS', '/greet', undefined, {
        origin,
        'access-control-request-method': 'POST',
        'access-control-request-headers': 'content-type, authorization',
      })
    const allowed = await preflight('https://app.example.com')
    assert.equal(allowed.status, 204, allowed.text)
    assert.equal(allowed.headers.get('access-control-allow-origin'), 'https://app.example.com')
    assert.match(allowed.headers.get('access-control-allow-methods') ?? '', /POST/)
    const other = await preflight('https://evil.example')
    assert.equal(other.headers.get('access-control-allow-origin'), null)
    const answer = await call(
      app,
      'POST',
      '/greet',
      { name: 'Ada' },
      {
        origin: 'https://app.example.com',
        authorization: 'Bearer the-token',
      }
    )
    assert.equal(answer.status, 200, answer.text)
    assert.equal(answer.headers.get('access-control-allow-origin'), 'https://app.example.com')
    // Without http.cors, no CORS headers at all: browsers keep other sites from reading answers.
    const plain = toHono(service({ name: unique('no-cors'), apis: { greet } }))
    const closed = await call(
      plain,
      'POST',
      '/greet',
      { name: 'Ada' },
      {
        origin: 'https://app.example.com',
      }
    )
    assert.equal(closed.status, 200)
    assert.equal(closed.headers.get('access-control-allow-origin'), null)
  })

  test('expose: metrics and docs can be left off the public port', async () => {
    const s = service({
      name: unique('hidden'),
      expose: { metrics: false, docs: false },
      apis: { greet },
    })
    const app = toHono(s)
    for (const path of ['/metrics', '/docs.json', '/']) {
      expectError(await call(app, 'GET', path), 404, /no route GET/)
    }
    assert.equal((await call(app, 'GET', '/livez')).status, 200)
    // toHono's own option still wins, for an app that serves them elsewhere.
    assert.equal((await call(toHono(s, { metrics: true }), 'GET', '/metrics')).status, 200)
  })
})
