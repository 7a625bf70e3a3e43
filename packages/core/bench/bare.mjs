// One bare process serving bench/hello.mjs with the runtime's own server (Node through
// @hono/node-server, as a bento worker does), printing "listening <port>" when it is ready.
// With RAW_REUSE_PORT=1 (Bun), it shares the port with its siblings as a raw Bun "cluster".
import process from 'node:process'
import { fetch } from './hello.mjs'

const port = Number(process.env.PORT ?? 0)
const host = '127.0.0.1'
const reusePort = process.env.RAW_REUSE_PORT === '1'
if (globalThis.Bun) {
  const server = Bun.serve({ port, hostname: host, reusePort, fetch })
  console.log(`listening ${server.port}`)
} else if (globalThis.Deno) {
  Deno.serve(
    { port, hostname: host, reusePort, onListen: (a) => console.log(`listening ${a.port}`) },
    fetch
  )
} else {
  const { createServer } = await import('node:http')
  const { getRequestListener } = await import('@hono/node-server')
  const server = createServer(getRequestListener(fetch))
  server.listen(port, host, () => console.log(`listening ${server.address().port}`))
}
