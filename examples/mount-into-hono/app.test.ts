import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, startBento } from '../../test/support/bento.ts'
import app from './app.ts'

const cwd = fileURLToPath(new URL('.', import.meta.url))

describe('an existing Hono app that mounts two services', () => {
  it("keeps the app's own routes and middleware", async () => {
    const home = await app.request('/')
    expect(await home.json()).toEqual({
      shop: 'open',
      services: ['/ml/sentiment', '/ml/summarize'],
    })
    expect(home.headers.get('x-shop')).toBe('bento-example')
    const products = await app.request('/products')
    expect(products.status).toBe(200)
    expect(await products.json()).toEqual([{ id: 1, name: 'lunch box' }])
  })

  it('serves both services under their mount points, through the middleware', async () => {
    const sentiment = await app.request('/ml/sentiment/classify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'I love this lunch box' }),
    })
    expect(await sentiment.json()).toEqual({ label: 'positive' })
    expect(sentiment.headers.get('x-shop')).toBe('bento-example')
    const summary = await app.request('/ml/summarize/summarize', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'First point. Second point. Third.', sentences: 2 }),
    })
    expect(await summary.json()).toEqual({ summary: 'First point. Second point.' })
  })

  it('gives each service its own health, docs and JSON errors', async () => {
    const ready = await app.request('/ml/sentiment/readyz')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({ service: 'sentiment', status: 'ready' })
    const docs = await (await app.request('/ml/summarize/docs.json')).json()
    expect(Object.keys(docs.paths)).toEqual(['/summarize'])
    const bad = await app.request('/ml/sentiment/classify', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({ error: 'invalid input', issues: [{ path: 'text' }] })
    const missing = await app.request('/ml/sentiment/nope')
    expect(missing.status).toBe(404)
    expect(missing.headers.get('content-type')).toMatch(/json/)
    expect(await missing.json()).toMatchObject({ error: 'no route GET /ml/sentiment/nope' })
  })
})

describe.each(RUNTIMES)('the app under `bento serve` on %s', (runtime) => {
  it("runs on the workers its services ask for, with every service's hooks", async () => {
    const bento = startBento(runtime, ['serve', 'app.ts', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
    })
    const url = await bento.url()
    expect(bento.output).toMatch(/2 workers/)
    expect(await (await fetch(`${url}/products`)).json()).toEqual([{ id: 1, name: 'lunch box' }])
    const { status, body } = await postJson(`${url}/ml/sentiment/classify`, {
      text: 'this is awful',
    })
    expect(status).toBe(200)
    expect(body).toEqual({ label: 'negative' })
    expect((await bento.stop()).code).toBe(0)
    const lines = bento.output.split('\n')
    expect(lines.filter((l) => /sentiment: onDeployment/.test(l))).toHaveLength(1)
    for (const name of ['sentiment', 'summarize']) {
      for (const hook of ['onStartup', 'onShutdown']) {
        for (const index of [1, 2]) {
          expect(lines).toContainEqual(
            expect.stringMatching(
              new RegExp(`^\\[worker ${index}\\] ${name}: ${hook} in worker ${index}$`)
            )
          )
        }
      }
    }
  })
})
