// How each runtime's way of sharing the public port behaves (docs/architecture.md, "Supervision"):
//   1. spread: requests and connections per worker with 64 and with 4 keep-alive connections;
//   2. stall: while one worker runs a 2 s CPU-bound request, latency of 20 new connections;
//   3. rolling restart: requests failed during a SIGHUP under a request loop (Bun and Deno inside
//      a network namespace with net.ipv4.tcp_migrate_req 0 and 1; needs root);
//   4. Node with and without UV_TCP_SINGLE_ACCEPT=1.
import { execFileSync } from 'node:child_process'
import http from 'node:http'
import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { freePort, here, machine, runtimes, sleep, start } from './lib.mjs'

// Usage: node bench/port-sharing.mjs [node|bun|deno|all] [spread|stall|reload ...]
const only = process.argv[2] === 'all' ? undefined : process.argv[2]
const sections = new Set(
  process.argv.length > 3 ? process.argv.slice(3) : ['spread', 'stall', 'reload']
)

async function supervisor(runtime, env = {}) {
  if (runtime === 'node:cluster') {
    // For comparison: node:cluster's default on Linux, round-robin from the primary.
    const port = await freePort()
    const proc = start([process.execPath, here('node-cluster.mjs')], { PORT: String(port) })
    await proc.waitFor(/^listening/)
    return { proc, port }
  }
  const [name, portSharing] = runtime.split('/')
  const proc = start([...runtimes[name], here('supervisor.mjs')], {
    BENCH_CONFIG: JSON.stringify({ workers: 2, port: await freePort(), env, portSharing }),
  })
  const [, port] = await proc.waitFor(/on http:\/\/127\.0\.0\.1:(\d+)/)
  await proc.waitFor(/all 2 workers ready/)
  return { proc, port: Number(port) }
}

function get(port, path, agent = false) {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path, agent }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (c) => {
        body += c
      })
      res.on('end', () => resolve({ body, socket: req.socket }))
    })
    req.on('error', reject)
  })
}

async function spread(port, connections, ms, staggerMs = 0) {
  const requests = {}
  const perConnection = {}
  const end = Date.now() + ms
  await Promise.all(
    Array.from({ length: connections }, async (_, c) => {
      await sleep(c * staggerMs)
      const agent = new http.Agent({ keepAlive: true, maxSockets: 1 })
      const seen = new Set()
      while (Date.now() < end) {
        const { body } = await get(port, '/index', agent)
        requests[body] = (requests[body] ?? 0) + 1
        seen.add(body)
      }
      agent.destroy()
      const key = [...seen].sort().join('+')
      perConnection[key] = (perConnection[key] ?? 0) + 1
    })
  )
  return { requests, perConnection }
}

const fmt = (o) =>
  Object.entries(o)
    .sort()
    .map(([k, v]) => `w${k}: ${v}`)
    .join(', ')

async function measureSpread(runtime, env = {}, label = runtime) {
  const { proc, port } = await supervisor(runtime, env)
  const wide = await spread(port, 64, 3000)
  console.log(
    `${label}  64 conns: requests ${fmt(wide.requests)}; connections ${fmt(wide.perConnection)}`
  )
  const burst = []
  const staggered = []
  for (let t = 0; t < 5; t++) burst.push(fmt((await spread(port, 4, 1000)).perConnection))
  for (let t = 0; t < 5; t++) staggered.push(fmt((await spread(port, 4, 1500, 100)).perConnection))
  console.log(
    `${label}   4 conns opened at once, 5 trials, connections per worker: ${burst.join(' | ')}`
  )
  console.log(`${label}   4 conns opened 100 ms apart, 5 trials: ${staggered.join(' | ')}`)
  await proc.stop()
}

async function measureStall(runtime) {
  const { proc, port } = await supervisor(runtime)
  const results = []
  for (let trial = 0; trial < 3; trial++) {
    const blocker = get(port, '/cpu?ms=2000')
    await sleep(200)
    const latencies = await Promise.all(
      Array.from({ length: 20 }, async () => {
        const t0 = performance.now()
        await get(port, '/index')
        return performance.now() - t0
      })
    )
    await blocker
    const stalled = latencies.filter((ms) => ms > 1000).length
    results.push(`${stalled}/20 stalled (max ${Math.max(...latencies).toFixed(0)} ms)`)
    await sleep(200)
  }
  console.log(`${runtime}  one worker busy 2 s, 20 new connections: ${results.join(' | ')}`)
  await proc.stop()
}

const driver = fileURLToPath(new URL('../test/fixtures/reload-under-load.mjs', import.meta.url))

function reload(target, connections, migrate) {
  const [runtime, portSharing] = target.split('/')
  const cmd = [process.execPath, driver, ...runtimes[runtime].filter((a) => a !== '--unstable-net')]
  const wrapped =
    migrate === undefined
      ? cmd
      : [
          'unshare',
          '--net',
          'sh',
          '-c',
          `ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=${migrate} && exec "$@"`,
          'sh',
          ...cmd,
        ]
  const out = execFileSync(wrapped[0], wrapped.slice(1), {
    encoding: 'utf8',
    env: { ...process.env, LOAD_CONFIG: JSON.stringify({ connections, clients: 8, portSharing }) },
  })
  const result = JSON.parse(out.match(/^RESULT (.*)$/m)[1])
  if (!result.ok) return `error: ${result.error}`
  return `${result.failed}/${result.sent} failed${result.failed ? ` ${JSON.stringify(result.errors)}` : ''}`
}

function measureReload(runtime) {
  const netns = (() => {
    try {
      execFileSync('unshare', ['--net', 'true'], { stdio: 'pipe' })
      return true
    } catch {
      return false
    }
  })()
  const settings = runtime.startsWith('node') ? [undefined] : netns ? [0, 1] : []
  for (const migrate of settings) {
    for (const connections of ['close', 'keepalive']) {
      const runs = [1, 2, 3].map(() => reload(runtime, connections, migrate))
      const where = migrate === undefined ? '' : ` tcp_migrate_req=${migrate}`
      console.log(
        `${runtime}${where}  SIGHUP under 8 clients (${connections === 'close' ? 'new connection per request' : 'keep-alive'}): ${runs.join(' | ')}`
      )
    }
  }
  if (settings.length === 0)
    console.log(`${runtime}  rolling restart: skipped (needs root for a network namespace)`)
}

console.log(`machine: ${machine()}\n`)
const selected = only ? [only] : ['node', 'bun', 'deno']
if (sections.has('spread')) {
  console.log('1. spread over 2 workers (keep-alive connections, 3 s / 1 s per trial)')
  for (const runtime of selected) await measureSpread(runtime)
  if (selected.includes('node')) {
    await measureSpread('node/shared-socket')
    await measureSpread(
      'node/shared-socket',
      { UV_TCP_SINGLE_ACCEPT: '1' },
      'node/shared-socket UV_TCP_SINGLE_ACCEPT=1'
    )
    await measureSpread('node:cluster')
  }
}
if (sections.has('stall')) {
  console.log('\n2. a CPU-bound request in one worker')
  for (const runtime of selected) await measureStall(runtime)
  if (selected.includes('node')) {
    await measureStall('node/shared-socket')
    await measureStall('node:cluster')
  }
}
if (sections.has('reload')) {
  console.log('\n3. rolling restart (3 runs each)')
  for (const runtime of selected) measureReload(runtime)
  if (selected.includes('node')) measureReload('node/shared-socket')
}
