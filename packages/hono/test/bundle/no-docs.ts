// A service's app for an edge worker without the docs page.
import { api, service } from '@bento/core'
import { z } from 'zod'
import { toHono } from '../../src/index.ts'

const tiny = service({
  name: 'tiny',
  apis: {
    greet: api({ input: z.object({ name: z.string() }), handler: ({ name }) => ({ hi: name }) }),
  },
})
export default toHono(tiny, { docs: false })
