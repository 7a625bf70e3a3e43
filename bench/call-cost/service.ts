// What one call to another service costs, measured inside a worker of `front`: the same trivial
// handler called as a plain function, through its service's Hono app in this process (what
// `dependencies: 'in-process'` does), and as a dependency served by a worker of its own over a
// Unix socket (what `bento serve` does). `pnpm bench` serves this and asks for each.
import { api, service, toHono } from 'bento'
import { z } from 'zod'

const echoHandler = async ({ n }: { n: number }) => ({ n })
export const echo = service({
  name: 'echo',
  workers: 1,
  apis: { echo: api({ input: z.object({ n: z.number() }), handler: echoHandler }) },
})
const inProcess = toHono(echo, { docs: false })

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

export default service({
  name: 'front',
  workers: 1,
  depends: { echo },
  apis: {
    measure: api({
      depends: { echo },
      input: z.object({
        calls: z.number().int().min(1),
        how: z.enum(['function', 'hono', 'socket']),
      }),
      handler: async ({ calls, how }, ctx) => {
        const micros: number[] = []
        for (let n = 0; n < calls; n++) {
          const began = performance.now()
          if (how === 'function') await echoHandler({ n })
          else if (how === 'hono') {
            const response = await inProcess.request('/echo', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ n }),
            })
            await response.json()
          } else await ctx.depends.echo.echo({ n })
          micros.push((performance.now() - began) * 1000)
        }
        micros.sort((a, b) => a - b)
        return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99), calls }
      },
    }),
  },
})
