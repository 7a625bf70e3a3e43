// The docs: the OpenAPI document at /docs.json and Swagger UI at /. Swagger UI's files are compiled
// into a generated module (see scripts/swagger-ui.mjs), so the docs work offline. This module never
// imports it by a name a bundler could follow: unbundled it is loaded when the page or an asset is
// first asked for, and a bundle carries it (about 2 MB) only when it passes `docs: { ui }` itself.
// Every URL the page uses is built from the path it was reached at, so it works mounted under any
// prefix.
import type { Service } from '@bento/core'
import type { Context, Hono } from 'hono'
import { buildDocument, type OpenApiDocument } from './openapi.ts'
import type { ResolvedOptions } from './options.ts'
import { requestIdOf } from './request.ts'
import type { SwaggerUiAssets } from './swagger-ui.ts'

type Assets = SwaggerUiAssets

// Beside this module: swagger-ui.js in dist, swagger-ui.ts when run from the sources (tests, Bun
// and Deno running TypeScript). A computed URL, so that bundlers leave the import alone.
const ASSETS_URL = new URL(
  `./swagger-ui${import.meta.url.endsWith('.ts') ? '.ts' : '.js'}`,
  import.meta.url
).href

async function loadAssets(): Promise<Assets> {
  const module = (await import(/* @vite-ignore */ ASSETS_URL)) as { swaggerUi: Assets }
  return module.swaggerUi
}

// Finds the page's own URL from its script tag, so the page needs no inline script (which a
// Content-Security-Policy would block) and no server-side knowledge of where it is mounted.
const INIT_SCRIPT = `(function () {
  var src = document.currentScript.src
  var base = src.slice(0, src.lastIndexOf('/docs/'))
  window.ui = SwaggerUIBundle({
    url: base + '/docs.json',
    dom_id: '#swagger-ui',
    deepLinking: true,
    // Swagger UI would otherwise send the document to validator.swagger.io for a badge.
    validatorUrl: null,
  })
})()
`

/**
 * Adds `GET /docs.json` (OpenAPI 3.1) and the Swagger UI page at `GET /` with its assets under
 * `/docs/`.
 * @example
 * docsRoutes(app, service, resolveOptions())
 */
export function docsRoutes(app: Hono, service: Service<unknown>, options: ResolvedOptions): void {
  let document: Promise<OpenApiDocument> | undefined
  let assets: Promise<Assets> | undefined
  const assetsOnce = () => {
    assets ??= options.docsUi ? Promise.resolve(options.docsUi) : loadAssets()
    return assets
  }

  app.get('/docs.json', async (c) => {
    document ??= buildDocument(service, options)
    const doc = await document
    // "Try it out" sends requests to `servers[0]`: where this app is reached, mounted or not.
    const server = prefixOf(c, '/docs.json', options.basePath) || '/'
    return c.json({ ...doc, servers: [{ url: server }] }, 200, {
      'x-request-id': requestIdOf(c),
    })
  })

  app.get('/', (c) => {
    const prefix = prefixOf(c, '/', options.basePath)
    const title = escapeHtml(`${options.openapi.title ?? service.name} · API`)
    const base = escapeHtml(prefix)
    const html = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<link rel="stylesheet" href="${base}/docs/swagger-ui.css">
</head>
<body>
<div id="swagger-ui"></div>
<script src="${base}/docs/swagger-ui-bundle.js"></script>
<script src="${base}/docs/init.js"></script>
</body>
</html>
`
    return c.html(html, 200, { 'x-request-id': requestIdOf(c) })
  })

  const asset = (type: string, body: (assets: Assets) => string) => async (c: Context) => {
    let files: Assets
    try {
      files = await assetsOnce()
    } catch {
      assets = undefined
      return c.json(
        {
          error:
            "Swagger UI is not in this bundle: import { swaggerUi } from '@bento/hono/swagger-ui' and pass toHono(service, { docs: { ui: swaggerUi } }); /docs.json works without it",
          requestId: requestIdOf(c),
        },
        501,
        { 'x-request-id': requestIdOf(c) }
      )
    }
    const text = body(files)
    return c.body(text, 200, {
      'content-type': type,
      'cache-control': 'public, max-age=86400',
      'x-request-id': requestIdOf(c),
    })
  }
  app.get(
    '/docs/swagger-ui.css',
    asset('text/css; charset=utf-8', (a) => a.css)
  )
  app.get(
    '/docs/swagger-ui-bundle.js',
    asset('text/javascript; charset=utf-8', (a) => a.bundle)
  )
  app.get(
    '/docs/init.js',
    asset('text/javascript; charset=utf-8', () => INIT_SCRIPT)
  )
}

/**
 * The path prefix this app is reached under: `basePath` when set, else the request's path minus
 * the route's own path (`/ml` for `/ml/docs.json` when mounted with `app.route('/ml', ...)`).
 * @example
 * prefixOf(c, '/docs.json', undefined) // '/ml'
 */
export function prefixOf(c: Context, route: string, basePath: string | undefined): string {
  if (basePath !== undefined) return basePath
  const path = c.req.path
  if (route === '/') return path.endsWith('/') ? path.slice(0, -1) : path
  return path.endsWith(route) ? path.slice(0, -route.length) : ''
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (ch) => `&#${ch.charCodeAt(0)};`)
}
