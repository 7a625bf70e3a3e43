// A bento service's Hono app as a module's default export, unchanged: what `deno serve` and Bun
// pick up and serve by themselves.
import { api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'

export default toHono(
  service({
    name: 'served',
    apis: {
      greet: api({
        input: z.object({ name: z.string() }),
        handler: ({ name }) => ({ message: `Hello, ${name}!` }),
      }),
    },
  })
)
