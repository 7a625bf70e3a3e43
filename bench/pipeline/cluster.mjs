// The pipeline of bench/pipeline/graph.ts under plain node:cluster: two clusters of 2 workers, an
// API tier on PORT that calls a model tier on MODEL_PORT over keep-alive HTTP. node:cluster hands
// each connection to a worker in turn, so a call goes to whichever model worker holds the
// connection it is sent on: spread per connection, not per request.
import cluster from 'node:cluster'
import http from 'node:http'
import process from 'node:process'

const PORT = Number(process.env.PORT)
const MODEL_PORT = Number(process.env.MODEL_PORT)
const MODEL_MS = 2

function score(text) {
  const until = performance.now() + MODEL_MS
  let h = 0
  while (performance.now() < until)
    for (let i = 0; i < text.length; i++) h = (h * 31 + text.charCodeAt(i)) | 0
  return { score: (h >>> 0) / 2 ** 32, worker: Number(process.env.MODEL_INDEX) }
}

function readJson(req) {
  return new Promise((resolve) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => resolve(JSON.parse(body)))
  })
}

if (cluster.isPrimary) {
  cluster.schedulingPolicy = cluster.SCHED_RR
  let ready = 0
  const fork = (env) =>
    cluster.fork(env).on('listening', () => {
      if (++ready === 4) console.log('listening')
    })
  for (const i of [1, 2]) fork({ ROLE: 'model', MODEL_INDEX: String(i) })
  for (const i of [1, 2]) fork({ ROLE: 'api', API_INDEX: String(i) })
  process.on('SIGTERM', () => process.exit(0))
} else if (process.env.ROLE === 'model') {
  http
    .createServer(async (req, res) => {
      const { text } = await readJson(req)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify(score(text)))
    })
    .listen(MODEL_PORT, '127.0.0.1')
} else {
  const agent = new http.Agent({ keepAlive: true })
  const callModel = (text) =>
    new Promise((resolve, reject) => {
      const body = JSON.stringify({ text })
      const req = http.request(
        {
          host: '127.0.0.1',
          port: MODEL_PORT,
          path: '/score',
          method: 'POST',
          agent,
          headers: {
            'content-type': 'application/json',
            'content-length': Buffer.byteLength(body),
          },
        },
        (res) => {
          let out = ''
          res.setEncoding('utf8')
          res.on('data', (chunk) => (out += chunk))
          res.on('end', () => resolve(JSON.parse(out)))
        }
      )
      req.on('error', reject)
      req.end(body)
    })
  http
    .createServer(async (req, res) => {
      const { q } = await readJson(req)
      const scored = await callModel(q)
      res.setHeader('content-type', 'application/json')
      res.end(JSON.stringify({ q, ...scored }))
    })
    .listen(PORT, '127.0.0.1')
}
