// What a user would write by hand for one service calling another on the same machine: a plain
// node:http server on a Unix socket, JSON in and out. `pnpm bench` starts it (on Node) at the path
// given, and the bench service calls it with a keep-alive node:http agent.
import { rmSync } from 'node:fs'
import { createServer } from 'node:http'

const path = process.argv[2]
rmSync(path, { force: true })
createServer((req, res) => {
  let body = ''
  req.setEncoding('utf8')
  req.on('data', (piece) => {
    body += piece
  })
  req.on('end', () => {
    const { n } = JSON.parse(body)
    const out = JSON.stringify({ n })
    res.writeHead(200, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(out),
    })
    res.end(out)
  })
}).listen(path, () => console.log(`listening on ${path}`))
