// Mounting: two services inside one existing Hono app with its own routes and middleware.
import { api, service } from '@bento/core'
import { Hono } from 'hono'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectError, unique } from '../harness.ts'

function twoServicesInOneApp() {
  const seen: string[] = []
  const app = new Hono()
  app.use(async (c, next) => {
    seen.push(c.req.path)
    await next()
    c.header('x-app', 'mine')
  })
  app.get('/', (c) => c.text('home'))
  app.get('/users/:id', (c) => c.json({ id: c.req.param('id') }))
  const translate = service({
    name: unique('translate'),
    apis: {
      translate: api({
        input: z.object({ text: z.string() }),
        handler: ({ text }: { text: string }) => ({ text: text.split('').reverse().join('') }),
      }),
    },
  })
  const classify = service({
    name: unique('classify'),
    apis: {
      classify: api({
        input: z.object({ text: z.string() }),
        handler: ({ text }: { text: string }) => ({ label: text.length > 3 ? 'long' : 'short' }),
      }),
    },
  })
  app.route('/translate', toHono(translate))
  app.route('/ml', toHono(classify))
  app.notFound((c) => c.text('the app’s own 404', 404))
  return { app, seen, translate, classify }
}

export default define('mount', (test) => {
  test('two services mounted beside the app’s own routes both answer, through its middleware', async () => {
    const { app, seen } = twoServicesInOneApp()
    const translated = await call(app, 'POST', '/translate/translate', { text: 'abc' })
    assert.equal(translated.status, 200, translated.text)
    assert.deepEqual(translated.json, { text: 'cba' })
    assert.equal(translated.headers.get('x-app'), 'mine')
    const classified = await call(app, 'POST', '/ml/classify', { text: 'hello' })
    assert.deepEqual(classified.json, { label: 'long' })
    assert.equal(classified.headers.get('x-app'), 'mine')
    assert.ok(classified.headers.get('x-request-id'))
    assert.equal((await call(app, 'GET', '/')).text, 'home')
    assert.deepEqual((await call(app, 'GET', '/users/7')).json, { id: '7' })
    assert.deepEqual(seen, ['/translate/translate', '/ml/classify', '/', '/users/7'])
  })

  test('mounted, errors stay JSON: 400, 404 and 405 under the mount point', async () => {
    const { app } = twoServicesInOneApp()
    const invalid = await call(app, 'POST', '/ml/classify', { text: 1 })
    expectError(invalid, 400, /invalid input/)
    assert.equal(invalid.headers.get('x-app'), 'mine')
    const missing = await call(app, 'POST', '/ml/nothing-here')
    expectError(missing, 404, /no route POST \/ml\/nothing-here/)
    assert.equal(missing.headers.get('x-app'), 'mine')
    const wrong = await call(app, 'GET', '/ml/classify')
    expectError(wrong, 405, /GET is not allowed/)
    assert.equal(wrong.headers.get('allow'), 'POST')
    // Outside the mount points the app's own 404 still applies.
    const own = await call(app, 'GET', '/elsewhere')
    assert.equal(own.status, 404)
    assert.equal(own.text, 'the app’s own 404')
  })

  test('mounted, each service has its own health, metrics and docs', async () => {
    const { app, translate, classify } = twoServicesInOneApp()
    await call(app, 'POST', '/ml/classify', { text: 'x' })
    assert.equal((await call(app, 'GET', '/ml/livez')).status, 200)
    const ready = await call(app, 'GET', '/ml/readyz')
    assert.equal(ready.status, 200, ready.text)
    const metrics = await call(app, 'GET', '/ml/metrics')
    assert.match(
      metrics.text,
      new RegExp(
        `bento_requests_total\\{service="${classify.name}",api="classify",status="200"\\} 1`
      )
    )
    assert.doesNotMatch(metrics.text, new RegExp(translate.name))
    const doc = (await call(app, 'GET', '/translate/docs.json')).json as {
      paths: object
      servers: unknown
    }
    assert.deepEqual(Object.keys(doc.paths), ['/translate'])
    assert.deepEqual(doc.servers, [{ url: '/translate' }])
  })
})
