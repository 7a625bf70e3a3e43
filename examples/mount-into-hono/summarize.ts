import { api, service } from 'bento'
import { z } from 'zod'

export default service({
  name: 'summarize',
  onStartup: (worker) => console.log(`summarize: onStartup in worker ${worker.workerIndex}`),
  onShutdown: (worker) => console.log(`summarize: onShutdown in worker ${worker.workerIndex}`),
  apis: {
    summarize: api({
      input: z.object({
        text: z.string().min(1),
        sentences: z.number().int().min(1).max(10).default(1),
      }),
      // The first sentences: a stand-in for a model, so the example runs anywhere.
      handler: ({ text, sentences }) => ({
        summary: (text.match(/[^.!?]+[.!?]*/g) ?? [text])
          .slice(0, sentences)
          .map((s) => s.trim())
          .join(' '),
      }),
    }),
  },
})
