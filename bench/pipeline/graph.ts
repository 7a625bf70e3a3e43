// A two-tier pipeline under bento: `api` (2 workers) calls `model` (2 workers, about 2 ms of CPU
// per call) once per request. bench/pipeline/cluster.mjs is the same under plain node:cluster.
import { api, service } from 'bento'
import { z } from 'zod'
import { score } from './work.ts'

export const model = service({
  name: 'model',
  workers: 2,
  apis: {
    score: api({ input: z.object({ text: z.string() }), handler: ({ text }) => score(text) }),
  },
})

export default service({
  name: 'api',
  workers: 2,
  depends: { model },
  apis: {
    search: api({
      depends: { model },
      input: z.object({ q: z.string() }),
      handler: async ({ q }, ctx) => ({ q, ...(await ctx.depends.model.score({ text: q })) }),
    }),
  },
})
