// The service every test of the workerd bundle calls: inside workerd, and served by Node for the
// caller that reaches it by URL.
import { api, HttpError, service } from '@bento/core'
import { z } from 'zod'

export const edge = service({
  name: 'edge',
  traffic: { maxConcurrency: 4 },
  apis: {
    greet: api({
      input: z.object({ name: z.string().min(1) }),
      output: z.object({ message: z.string(), runtime: z.string() }),
      handler: ({ name }) => ({
        message: `Hello, ${name}!`,
        // Node 20 has no navigator; the test serves this service on Node too.
        runtime: globalThis.navigator?.userAgent ?? `Node.js/${globalThis.process?.version}`,
      }),
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
