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
