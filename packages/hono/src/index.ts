// @bento/hono: every bento service as a Hono app. Nothing here imports a `node:` module, so the app
// runs on Node (through @hono/node-server), Bun, Deno and edge runtimes such as Cloudflare Workers.
export { toHono } from './app.ts'
export type { ErrorBody } from './errors.ts'
export { buildOpenApi, type OpenApiDocument } from './openapi.ts'
export type { JsonSchema, ToHonoOptions } from './options.ts'
export { type SseMessage, sse } from './stream.ts'
export type { SwaggerUiAssets } from './swagger-ui.ts'
