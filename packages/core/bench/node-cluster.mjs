// node:cluster with 2 workers serving bench/hello.mjs (the raw cluster bento is compared with).
// Prints "listening <port>" once both workers listen.
import cluster from 'node:cluster'
import { createServer } from 'node:http'
import process from 'node:process'
import { getRequestListener } from '@hono/node-server'
import { fetch } from './hello.mjs'

const port = Number(process.env.PORT)
if (cluster.isPrimary) {
  let listening = 0
  for (let i = 1; i <= 2; i++) cluster.fork({ RAW_INDEX: String(i) })
  cluster.on('listening', () => {
    if (++listening === 2) console.log(`listening ${port}`)
  })
} else {
  createServer(getRequestListener(fetch)).listen(port, '127.0.0.1')
}
