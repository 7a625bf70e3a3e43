// What one call to another service costs, measured inside a worker of `front`: the same trivial
// handler called as a plain function; as a dependency called in this process (what
// `dependencies: 'in-process'` does: straight to its validated handler); as a dependency served by
// a worker of its own (what `bento serve` does: frames over a Unix socket); and, for comparison,
// a plain node:http server on a Unix socket called with a keep-alive agent (what a user would
// write by hand). `pnpm bench` serves this and asks for each.
import { Agent, request } from 'node:http'
import { tmpdir } from 'node:os'
import { api, service, toHono } from 'bento'
import { z } from 'zod'

const echoHandler = async ({ n }: { n: number }) => ({ n })
const echoOf = (name: string) =>
  service({
    name,
    workers: 1,
    apis: { echo: api({ input: z.object({ n: z.number() }), handler: echoHandler }) },
  })
export const echo = echoOf('echo')
// The same service under a name the graph does not serve: calls to it from `local` stay in this
// process (a dependency the graph serves is called at its workers, opt-in or not).
const echoHere = echoOf('echo-here')

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))]!

const agent = new Agent({ keepAlive: true, maxSockets: 1 })
// One call to the plain server, as a user would write it.
function plainCall(socketPath: string, n: number): Promise<{ n: number }> {
  return new Promise((resolve, reject) => {
    const body = JSON.stringify({ n })
    const req = request(
      {
        socketPath,
        agent,
        method: 'POST',
        path: '/echo',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (piece) => {
          text += piece
        })
        res.on('end', () => resolve(JSON.parse(text)))
      }
    )
    req.on('error', reject)
    req.end(body)
  })
}

const measureInput = z.object({
  calls: z.number().int().min(1),
  how: z.enum(['function', 'in-process', 'depends', 'plain-http']),
  socket: z.string().optional(),
})

// The same measuring API for two callers: `front`, whose calls to echo go to its worker, and
// `local`, whose calls go to echo-here in this process.
function caller(name: string, callee: typeof echo) {
  return service({
    name,
    workers: 1,
    depends: { echo: callee },
    // On Deno, connecting to the plain server's socket (in the bench's temporary directory) is a
    // write.
    deno: { allow: [`--allow-write=${tmpdir()}`] },
    apis: {
      measure: api({
        depends: { echo: callee },
        input: measureInput,
        handler: async ({ calls, how, socket }, ctx) => {
          if (how === 'in-process') {
            const response = await local.request('/measure', {
              method: 'POST',
              headers: { 'content-type': 'application/json' },
              body: JSON.stringify({ calls, how: 'depends' }),
            })
            return response.json()
          }
          const micros: number[] = []
          for (let n = 0; n < calls; n++) {
            const began = performance.now()
            if (how === 'function') await echoHandler({ n })
            else if (how === 'plain-http') await plainCall(socket!, n)
            else await ctx.depends.echo.echo({ n })
            micros.push((performance.now() - began) * 1000)
          }
          micros.sort((a, b) => a - b)
          return { p50: percentile(micros, 0.5), p99: percentile(micros, 0.99), calls }
        },
      }),
    },
  })
}

const local = toHono(caller('local', echoHere), { docs: false, dependencies: 'in-process' })

export default caller('front', echo)
