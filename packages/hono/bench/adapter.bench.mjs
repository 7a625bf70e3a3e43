// What the adapter costs per request: a service's API served by `toHono` against a hand-written
// Hono route doing the same work (parse the JSON body, validate it with the same zod schema through
// @bento/core's `validate`, call the same handler, answer JSON). Two scenarios: each app on its own,
// and each mounted under /ml in an app with one middleware (as real apps have).
//
// Both are called in process with `app.request()`, in rounds where blocks of 50 requests to each
// alternate, timed in CPU time of this process rather than wall time: both apps see the same load
// from the rest of the machine, and time this process waits for a core does not count. Each round
// gives a ratio; the median ratio is the result. Target: the adapter at most 10% slower. Bounded at
// about 20 s.
// Run: `pnpm --filter @bento/hono bench` (turbo builds dist/ first).
import { writeFileSync } from 'node:fs'
import { api, service } from '@bento/core'
import { validate } from '@bento/core/adapter'
import { Hono } from 'hono'
import { z } from 'zod'
import { toHono } from '../dist/index.js'

const TARGET = 1.1
const ROUNDS = 25
const ROUND_MS = 300
const WARMUP = 10_000

const input = z.object({ text: z.string().min(1), n: z.number().int().optional() })
const handler = ({ text, n }) => ({ length: text.length, n: n ?? 0 })

function adapter() {
  const s = service({ name: 'bench', apis: { predict: api({ input, handler }) } })
  return toHono(s, { dev: false })
}

function handWritten() {
  const app = new Hono()
  app.post('/predict', async (c) => {
    const result = await validate(input, await c.req.json())
    if (!result.ok) return c.json({ error: 'invalid input', issues: result.issues }, 400)
    return c.json(handler(result.value))
  })
  return app
}

function mounted(app) {
  const parent = new Hono()
  parent.use(async (_c, next) => {
    await next()
  })
  parent.route('/ml', app)
  return parent
}

const body = JSON.stringify({ text: 'the quick brown fox', n: 3 })
// As a real client sends it: with its length.
const headers = { 'content-type': 'application/json', 'content-length': String(body.length) }

async function check(app, path) {
  const res = await app.request(path, { method: 'POST', body, headers })
  const json = await res.json()
  if (res.status !== 200 || json.length !== 19) throw new Error(`${path} answered ${res.status}`)
}

const BLOCK = 50

/** CPU ns per request of one block of BLOCK requests. */
async function block(app, path) {
  const cpu = process.cpuUsage()
  for (let i = 0; i < BLOCK; i++) {
    await (await app.request(path, { method: 'POST', body, headers })).arrayBuffer()
  }
  const { user, system } = process.cpuUsage(cpu)
  return ((user + system) * 1e3) / BLOCK
}

/**
 * One round of about `ms`: blocks of the two apps alternate, so both see the same load from the
 * rest of the machine; returns each app's mean CPU ns per request over the round.
 */
async function round(apps, path, ms) {
  const sums = { adapter: 0, handWritten: 0 }
  let blocks = 0
  const deadline = performance.now() + ms
  while (performance.now() < deadline) {
    const order = blocks % 2 ? ['adapter', 'handWritten'] : ['handWritten', 'adapter']
    for (const key of order) sums[key] += await block(apps[key], path)
    blocks++
  }
  return { adapter: sums.adapter / blocks, handWritten: sums.handWritten / blocks }
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]

async function compare(name, apps, path) {
  for (const app of Object.values(apps)) await check(app, path)
  for (let i = 0; i < WARMUP; i++) {
    const app = i % 2 ? apps.adapter : apps.handWritten
    await (await app.request(path, { method: 'POST', body, headers })).arrayBuffer()
  }
  const ns = { adapter: [], handWritten: [] }
  const ratios = []
  for (let r = 0; r < ROUNDS; r++) {
    const { adapter, handWritten } = await round(apps, path, ROUND_MS)
    ns.adapter.push(adapter)
    ns.handWritten.push(handWritten)
    ratios.push(adapter / handWritten)
  }
  const ratio = median(ratios)
  return {
    scenario: name,
    'hand-written CPU ns/req': Math.round(median(ns.handWritten)),
    'toHono CPU ns/req': Math.round(median(ns.adapter)),
    ratio: Number(ratio.toFixed(3)),
    met: ratio <= TARGET ? 'yes' : 'no',
  }
}

const rows = [
  await compare('standalone', { adapter: adapter(), handWritten: handWritten() }, '/predict'),
  await compare(
    'mounted at /ml, one middleware',
    { adapter: mounted(adapter()), handWritten: mounted(handWritten()) },
    '/ml/predict'
  ),
]
// `pnpm bench` (bench/run.mjs) collects the rows for BENCHMARKS.md.
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows))
console.table(rows)
console.log(
  `target: toHono at most ${Math.round((TARGET - 1) * 100)}% slower (ratio <= ${TARGET}); ` +
    `median of ${ROUNDS} rounds of ${ROUND_MS} ms (alternating blocks of ${BLOCK} requests); node ${process.version}`
)
