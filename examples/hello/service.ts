import { api, service } from 'bento'
import { z } from 'zod'

export default service({
  name: 'hello',
  workers: 'cpu_count',
  apis: {
    greet: api({
      description: 'Greets someone by name.',
      input: z.object({ name: z.string().min(1).max(100) }),
      output: z.object({ message: z.string(), worker: z.number().int() }),
      handler: ({ name }, ctx) => ({ message: `Hello, ${name}!`, worker: ctx.workerIndex }),
    }),
  },
})
