// A Cloudflare Worker that is nothing but a bento service's Hono app, with its docs page.
import { api, HttpError, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'
import { swaggerUi } from '../../src/swagger-ui.ts'

const edge = service({
  name: 'edge',
  traffic: { maxConcurrency: 4 },
  apis: {
    greet: api({
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ message: z.string(), runtime: z.string() }),
      handler: ({ name }) => ({ message: `Hello, ${name}!`, runtime: navigator.userAgent }),
    }),
    tokens: api({
      input: z.object({ text: z.string() }),
      handler: async function* ({ text }: { text: string }) {
        for (const word of text.split(' ')) yield { word }
      },
    }),
    teapot: api({
      handler: () => {
        throw new HttpError(418, 'short and stout')
      },
    }),
  },
})

// A bundle carries Swagger UI only when it asks for it.
export default toHono(edge, { docs: { ui: swaggerUi } })
