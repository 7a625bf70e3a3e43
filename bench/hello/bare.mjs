// What a user would write by hand instead of `bento serve examples/hello`: the same route with the
// same validation in a plain Hono app, served by the runtime's own multi-process way. On Node,
// node:cluster with 2 workers (RAW_WORKERS); on Bun and Deno, one process of 2 started by the bench
// that binds PORT with SO_REUSEPORT. Prints "listening" once serving.
import cluster from 'node:cluster'
import process from 'node:process'
import { Hono } from 'hono'
import { z } from 'zod'

const port = Number(process.env.PORT)
const workers = Number(process.env.RAW_WORKERS ?? 2)
const schema = z.object({ name: z.string().min(1).max(100) })

function app() {
  const hono = new Hono()
  hono.post('/greet', async (c) => {
    const parsed = schema.safeParse(await c.req.json().catch(() => undefined))
    if (!parsed.success) return c.json({ error: 'invalid input' }, 400)
    return c.json({ message: `Hello, ${parsed.data.name}!`, worker: 1 })
  })
  return hono
}

if (globalThis.Bun) {
  globalThis.Bun.serve({ port, hostname: '127.0.0.1', reusePort: true, fetch: app().fetch })
  console.log('listening')
} else if (globalThis.Deno) {
  globalThis.Deno.serve(
    { port, hostname: '127.0.0.1', reusePort: true, onListen: () => console.log('listening') },
    app().fetch
  )
} else if (cluster.isPrimary) {
  let ready = 0
  for (let i = 0; i < workers; i++) {
    cluster.fork().on('listening', () => {
      if (++ready === workers) console.log('listening')
    })
  }
  process.on('SIGTERM', () => process.exit(0))
} else {
  const { serve } = await import('@hono/node-server')
  serve({ fetch: app().fetch, port, hostname: '127.0.0.1' })
}
