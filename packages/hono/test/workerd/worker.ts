// A Cloudflare Worker that is nothing but a bento service's Hono app, with its docs page; and,
// under /remote, /local and /missing, services that call it: at a URL (a server the test runs,
// named at bundle time), in this process (opted in), or with no address at all.
import { api, depends, service } from '@bento/core'
import { Hono } from 'hono'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { swaggerUi } from '../../src/swagger-ui.ts'
import { edge } from './edge.ts'

declare const EDGE_URL: string

const caller = (name: string, dependency: typeof edge | ReturnType<typeof depends<typeof edge>>) =>
  service({
    name,
    apis: {
      relay: api({
        depends: { edge: dependency },
        input: z.object({ name: z.string() }),
        handler: async ({ name: who }, ctx) => {
          const words: unknown[] = []
          for await (const chunk of ctx.depends.edge.tokens({ text: `hi ${who}` }))
            words.push(chunk)
          return { greeting: await ctx.depends.edge.greet({ name: who }), words }
        },
      }),
    },
  })

const app = new Hono()
app.route('/remote', toHono(caller('remote', depends(edge, { url: EDGE_URL })), { docs: false }))
app.route('/local', toHono(caller('local', edge), { docs: false, dependencies: 'in-process' }))
app.route('/missing', toHono(caller('missing', edge), { docs: false }))
// A bundle carries Swagger UI only when it asks for it.
app.route('/', toHono(edge, { docs: { ui: swaggerUi } }))
export default app
