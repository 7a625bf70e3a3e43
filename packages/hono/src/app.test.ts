// toHono's app itself, in process: the routes it registers and in what order, what it reports to
// core about the service it serves, and the docs page's two ways to get Swagger UI.
import { api, service } from '@bento/core'
import { describeExport } from '@bento/core/serve'
import { Hono } from 'hono'
import { describe, expect, it } from 'vitest'
import { toHono } from './app.ts'
import type { SwaggerUiAssets } from './swagger-ui.ts'

const hello = (name: string) =>
  service({
    name,
    apis: {
      greet: api({ handler: () => ({ hi: true }) }),
      list: api({ method: 'GET', handler: () => [] }),
    },
  })

describe('toHono', () => {
  it('tells core it serves the service, so an app entry that mounts it is planned from it', () => {
    const svc = hello('reported')
    const app = new Hono()
    app.route('/ml', toHono(svc))
    const description = describeExport({ kind: 'app', fetch: app.fetch, exportName: 'default' })
    expect(description.services.map((s) => s.name)).toContain('reported')
  })

  it('answers an API at its route, a wrong method with 405 and Allow, an unknown path with JSON 404', async () => {
    const app = toHono(hello('routes'))
    expect((await app.request('/greet', { method: 'POST' })).status).toBe(200)
    const wrong = await app.request('/greet', { method: 'GET' })
    expect(wrong.status).toBe(405)
    expect(wrong.headers.get('allow')).toBe('POST')
    const list = await app.request('/list', { method: 'POST' })
    expect(list.headers.get('allow')).toBe('GET, HEAD')
    const missing = await app.request('/nope')
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: 'no route GET /nope' })
  })

  it("keeps the headers a parent app's middleware set before a mounted API answered", async () => {
    const app = new Hono()
    app.use('*', async (c, next) => {
      c.header('x-parent', 'before')
      await next()
    })
    app.route('/ml', toHono(hello('headers')))
    const mounted = await app.request('/ml/greet', { method: 'POST' })
    expect(mounted.status).toBe(200)
    expect(mounted.headers.get('x-parent')).toBe('before')
    expect(mounted.headers.get('x-request-id')).toMatch(/\S/)
    expect(mounted.headers.get('content-type')).toBe('application/json')
    // Served by its own fetch, the same API answers with the same headers, less the parent's.
    const own = await toHono(hello('headers-own')).request('/greet', { method: 'POST' })
    expect(own.headers.get('x-request-id')).toMatch(/\S/)
    expect(own.headers.get('content-type')).toBe('application/json')
    expect(await own.json()).toEqual({ hi: true })
  })

  it('keeps unknown paths JSON under a mount point', async () => {
    const app = new Hono()
    app.route('/ml', toHono(hello('mounted')))
    const missing = await app.request('/ml/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toMatch(/json/)
  })

  it('serves the Swagger UI files it was given, and none with docs: false', async () => {
    const ui: SwaggerUiAssets = { css: '/* given */', bundle: '/* given bundle */', version: '0' }
    const given = toHono(hello('given-ui'), { docs: { ui } })
    expect(await (await given.request('/docs/swagger-ui.css')).text()).toBe('/* given */')
    expect((await given.request('/docs.json')).status).toBe(200)
    const none = toHono(hello('no-docs'), { docs: false })
    expect((await none.request('/docs.json')).status).toBe(404)
    expect((await none.request('/')).status).toBe(404)
  })

  it('loads the Swagger UI files by itself when not given them', async () => {
    const app = toHono(hello('own-ui'))
    const css = await app.request('/docs/swagger-ui.css')
    expect(css.status).toBe(200)
    expect((await css.text()).length).toBeGreaterThan(10_000)
  })
})

describe('toHono: dependencies', () => {
  const model = service({
    name: 'dep-model',
    traffic: { timeout: 30 },
    apis: {
      echo: api({
        handler: (input: unknown, ctx) => ({
          input,
          timeout: ctx.headers.get('bento-timeout'),
          requestId: ctx.requestId,
        }),
      }),
      words: api({
        handler: async function* () {
          yield 'one'
          yield '42'
        },
      }),
      wait: api({
        handler: async (_input: unknown, ctx) => {
          await new Promise((resolve) => setTimeout(resolve, 1_000))
          return { late: !ctx.signal.aborted }
        },
      }),
    },
  })
  const caller = service({
    name: 'dep-caller',
    traffic: { timeout: 0.2 },
    depends: { model },
    apis: {
      relay: api({
        depends: { model },
        handler: async (input: unknown, ctx) => ctx.depends.model.echo(input),
      }),
      words: api({
        depends: { model },
        handler: async (_input: unknown, ctx) => {
          const words: string[] = []
          for await (const word of ctx.depends.model.words()) words.push(word)
          return words
        },
      }),
      wait: api({
        depends: { model },
        handler: (_input: unknown, ctx) => ctx.depends.model.wait(),
      }),
    },
  })
  const post = (app: Hono, path: string, body: unknown, headers: Record<string, string> = {}) =>
    app.request(path, {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: JSON.stringify(body),
    })

  it('calls them in this process when asked to, with the request id and remaining time', async () => {
    const app = toHono(caller, { dependencies: 'in-process' })
    const answer = await post(app, '/relay', { a: 1 }, { 'x-request-id': 'abc-1' })
    expect(answer.status).toBe(200)
    const body = (await answer.json()) as { input: unknown; timeout: string; requestId: string }
    expect(body.input).toEqual({ a: 1 })
    expect(body.requestId).toBe('abc-1')
    // The caller has 0.2 s: the model is given no more.
    expect(Number(body.timeout)).toBeLessThanOrEqual(200)
    // Streamed strings stay strings ("42", not 42).
    expect(await (await post(app, '/words', {})).json()).toEqual(['one', '42'])
  })

  it("caps the callee's timeout by the caller's: a late model answer is the caller's 504", async () => {
    const app = toHono(caller, { dependencies: 'in-process' })
    const late = await post(app, '/wait', {})
    expect(late.status).toBe(504)
  })

  it('never runs them in this process unasked: a 503 that names the dependency, the fix in the log', async () => {
    const lonely = service({
      name: 'dep-lonely',
      depends: { model },
      apis: { relay: caller.definition.apis.relay },
    })
    const logged: unknown[] = []
    const app = toHono(lonely, { dev: false, onError: (error) => logged.push(error) })
    const answer = await post(app, '/relay', {})
    expect(answer.status).toBe(503)
    const body = (await answer.json()) as Record<string, unknown>
    expect(body).toEqual({
      error: 'the dependency "dep-model" did not answer',
      dependency: { service: 'dep-model', api: 'echo', status: 503 },
      requestId: expect.any(String),
    })
    expect(String(logged[0])).toMatch(/no address for the dependency "dep-model"/)
    // In development the answer says how too.
    const dev = await post(toHono(lonely, { dev: true, onError: () => {} }), '/relay', {})
    expect(((await dev.json()) as { message: string }).message).toMatch(
      /no address for the dependency "dep-model"/
    )
    // And /readyz says the dependency is not ready, promptly.
    const ready = await app.request('/readyz')
    expect(ready.status).toBe(503)
    expect(await ready.json()).toMatchObject({ notReady: ['dep-model'] })
  })

  it('refuses a dependencies option it does not know', () => {
    expect(() => toHono(caller, { dependencies: 'inline' as 'in-process' })).toThrow(
      /dependencies must be 'in-process' or left out/
    )
  })
})
