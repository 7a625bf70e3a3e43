// Docs: the OpenAPI 3.1 document for each schema library, and the Swagger UI page and assets.
import { api, service } from '@bento/core'
import { type } from 'arktype'
import { Hono } from 'hono'
import * as v from 'valibot'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectSubset, unique } from '../harness.ts'
import { greeter, libraries } from '../services.ts'

type Doc = {
  openapi: string
  info: { title: string; version: string }
  servers: Array<{ url: string }>
  // biome-ignore lint/suspicious/noExplicitAny: the cases walk the document freely and assert each step
  paths: Record<string, Record<string, Record<string, any>>>
  components: { schemas: Record<string, unknown> }
}

/** Every `$ref` in the document points at something that exists. */
function checkRefs(doc: Doc): void {
  const visit = (node: unknown): void => {
    if (typeof node !== 'object' || node === null) return
    for (const [key, value] of Object.entries(node)) {
      if (key === '$ref') {
        assert.equal(typeof value, 'string')
        const name = String(value).replace('#/components/schemas/', '')
        assert.ok(doc.components.schemas[name], `dangling $ref ${String(value)}`)
      } else visit(value)
    }
  }
  visit(doc)
}

const uploads = {
  zod: () => z.object({ image: z.file(), caption: z.string() }),
  valibot: () => v.object({ image: v.file(), caption: v.string() }),
  arktype: () => type({ image: 'File', caption: 'string' }),
}

export default define('docs', (test) => {
  for (const library of libraries) {
    test(`${library}: /docs.json is OpenAPI 3.1 with request and response schemas`, async () => {
      const s = greeter(library)
      const answer = await call(toHono(s), 'GET', '/docs.json')
      assert.equal(answer.status, 200)
      const doc = answer.json as Doc
      assert.equal(doc.openapi, '3.1.0')
      assert.deepEqual(doc.info, { title: s.name, version: '0.0.0' })
      assert.deepEqual(doc.servers, [{ url: '/' }])
      assert.deepEqual(Object.keys(doc.paths).sort(), ['/greet', '/hello'])
      checkRefs(doc)

      const greet = doc.paths['/greet']!.post!
      assert.equal(greet.operationId, 'greet')
      assert.equal(greet.description, 'Greets someone.')
      const request = greet.requestBody.content['application/json'].schema
      expectSubset(request, {
        type: 'object',
        properties: { name: { type: 'string', minLength: 1 } },
      })
      assert.ok(request.required.includes('name'))
      assert.ok(!request.required.includes('times'))
      assert.equal(request.properties.times.type, 'integer')
      expectSubset(request.properties.tags, {
        type: 'array',
        items: { type: 'object', properties: { label: { type: 'string' } } },
      })
      assert.equal(request.$schema, undefined, 'no $schema inside OpenAPI')
      const response = greet.responses['200'].content['application/json'].schema
      expectSubset(response, {
        type: 'object',
        properties: { message: { type: 'string' } },
        required: ['message'],
      })
      assert.deepEqual(greet.responses['400'].content['application/json'].schema, {
        $ref: '#/components/schemas/ValidationError',
      })
      for (const status of ['413', '415', '500', '504']) assert.ok(greet.responses[status], status)

      const hello = doc.paths['/hello']!.get!
      assert.equal(hello.requestBody, undefined)
      expectSubset(
        hello.parameters.find((p: { name: string }) => p.name === 'name'),
        { in: 'query', required: true, schema: { type: 'string' } }
      )
    })

    test(`${library}: a schema with a file is offered as multipart/form-data`, async () => {
      const s = service({
        name: unique(`upload-${library}`),
        apis: { upload: api({ input: uploads[library](), handler: () => 'ok' }) },
      })
      const doc = (await call(toHono(s), 'GET', '/docs.json')).json as Doc
      const content = doc.paths['/upload']!.post!.requestBody.content
      assert.deepEqual(Object.keys(content), ['multipart/form-data'])
      expectSubset(content['multipart/form-data'].schema.properties.image, {
        type: 'string',
        format: 'binary',
      })
    })
  }

  test('streaming APIs document their event stream, limited services their 503', async () => {
    const s = service({
      name: unique('doc-stream'),
      traffic: { maxConcurrency: 2, timeout: 5 },
      apis: {
        chat: api({ handler: async function* () {} }),
        story: api({ stream: 'text', handler: async function* () {} }),
      },
    })
    const doc = (
      await call(toHono(s, { openapi: { title: 'Chat', version: '1.2.3' } }), 'GET', '/docs.json')
    ).json as Doc
    assert.deepEqual(doc.info, { title: 'Chat', version: '1.2.3' })
    assert.ok(doc.paths['/chat']!.post!.responses['200'].content['text/event-stream'])
    assert.ok(doc.paths['/story']!.post!.responses['200'].content['text/plain'])
    assert.ok(doc.paths['/chat']!.post!.responses['503'].headers['Retry-After'])
    assert.match(doc.paths['/chat']!.post!.responses['504'].description, /5 s/)
  })

  test('GET / serves the Swagger UI page and its assets from the package', async () => {
    const s = greeter('zod')
    const app = toHono(s)
    const page = await call(app, 'GET', '/')
    assert.equal(page.status, 200)
    assert.match(page.headers.get('content-type') ?? '', /text\/html/)
    assert.match(page.text, /<div id="swagger-ui"><\/div>/)
    assert.match(page.text, /href="\/docs\/swagger-ui.css"/)
    assert.match(page.text, /src="\/docs\/swagger-ui-bundle.js"/)
    assert.match(page.text, /src="\/docs\/init.js"/)
    assert.doesNotMatch(page.text, /https?:\/\//, 'nothing comes from a CDN')

    const css = await call(app, 'GET', '/docs/swagger-ui.css')
    assert.equal(css.status, 200)
    assert.match(css.headers.get('content-type') ?? '', /^text\/css/)
    assert.match(css.text, /\.swagger-ui/)
    assert.doesNotMatch(css.text, /sourceMappingURL/)
    const bundle = await call(app, 'GET', '/docs/swagger-ui-bundle.js')
    assert.match(bundle.headers.get('content-type') ?? '', /^text\/javascript/)
    assert.ok(bundle.text.length > 500_000)
    assert.match(bundle.text, /SwaggerUIBundle/)
    const init = await call(app, 'GET', '/docs/init.js')
    assert.match(init.text, /\/docs\.json/)
    assert.match(init.text, /validatorUrl: null/, 'no call to validator.swagger.io')
  })

  test('mounted under a prefix, the docs point at the prefix', async () => {
    const parent = new Hono()
    parent.route('/ml/v1', toHono(greeter('zod')))
    const doc = (await call(parent, 'GET', '/ml/v1/docs.json')).json as Doc
    assert.deepEqual(doc.servers, [{ url: '/ml/v1' }])
    const page = await call(parent, 'GET', '/ml/v1')
    assert.match(page.text, /href="\/ml\/v1\/docs\/swagger-ui.css"/)
    assert.equal((await call(parent, 'GET', '/ml/v1/docs/swagger-ui.css')).status, 200)
  })

  test('basePath overrides the prefix (for a proxy that strips it)', async () => {
    const app = toHono(greeter('zod'), { basePath: '/public/ml/' })
    const doc = (await call(app, 'GET', '/docs.json')).json as Doc
    assert.deepEqual(doc.servers, [{ url: '/public/ml' }])
    assert.match((await call(app, 'GET', '/')).text, /href="\/public\/ml\/docs\/swagger-ui.css"/)
  })
})
