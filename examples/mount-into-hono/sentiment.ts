import { api, service } from 'bento'
import { z } from 'zod'

const POSITIVE = /\b(good|great|love|excellent|happy)\b/i
const NEGATIVE = /\b(bad|terrible|hate|awful|sad)\b/i

export default service({
  name: 'sentiment',
  // The app's workers are planned from the services it mounts: the most any of them asks for.
  workers: 2,
  onDeployment: () => console.log('sentiment: onDeployment'),
  onStartup: (worker) => console.log(`sentiment: onStartup in worker ${worker.workerIndex}`),
  onShutdown: (worker) => console.log(`sentiment: onShutdown in worker ${worker.workerIndex}`),
  apis: {
    classify: api({
      input: z.object({ text: z.string().min(1) }),
      handler: ({ text }) => {
        const score = Number(POSITIVE.test(text)) - Number(NEGATIVE.test(text))
        return { label: score > 0 ? 'positive' : score < 0 ? 'negative' : 'neutral' }
      },
    }),
  },
})
