// `pnpm bench` (or `node bench/supervisor.bench.mjs [node|node/shared-socket|bun|deno ...]`):
// bento's supervisor against bare processes and each runtime's own cluster, side by
// side in one run, for Node, Bun and Deno:
//   - time from start to every worker ready (2 workers) vs one bare process serving the handler;
//   - the supervisor's memory (RSS);
//   - hello-world throughput with 2 workers through bento's port vs the raw cluster (node:cluster,
//     Bun reusePort processes, `deno serve --parallel` with DENO_JOBS=2), from wrk with 64
//     keep-alive connections, 5 s per run, 5 runs alternating bento and raw, medians and the median
//     of the paired ratios.
import process from 'node:process'
import {
  denoBin,
  freePort,
  hasWrk,
  here,
  machine,
  median,
  rawCluster,
  rssMiB,
  runtimes,
  sleep,
  start,
  wrk,
} from './lib.mjs'

const RUNS = Number(process.env.BENCH_RUNS ?? 5)
const SECONDS = Number(process.env.BENCH_SECONDS ?? 5)
const STARTS = 5

async function bentoStart(target) {
  const [runtime, portSharing] = target.split('/')
  const port = await freePort()
  const t0 = performance.now()
  const proc = start([...runtimes[runtime], here('supervisor.mjs')], {
    BENCH_CONFIG: JSON.stringify({ workers: 2, port, portSharing }),
  })
  await proc.waitFor(/all 2 workers ready/)
  return { proc, port, ms: performance.now() - t0 }
}

async function bareStart(target) {
  const runtime = target.split('/')[0]
  const port = await freePort()
  const cmd =
    runtime === 'deno'
      ? [denoBin, 'run', '--allow-all', here('bare.mjs')]
      : [...runtimes[runtime], here('bare.mjs')]
  const t0 = performance.now()
  const proc = start(cmd, { PORT: String(port) })
  await proc.waitFor(/^listening \d+/)
  return { proc, port, ms: performance.now() - t0 }
}

// Each bento run is followed by a raw run: the ratio within a pair is less exposed to whatever
// else the machine is doing at the time than the ratio of the two medians.
function pairedRatio({ ours, raw }) {
  return median(ours.map((value, i) => value / raw[i]))
}

async function startup(runtime) {
  const bento = []
  const bare = []
  let bareRss = 0
  for (let i = 0; i < STARTS; i++) {
    const b = await bentoStart(runtime)
    bento.push(b.ms)
    await b.proc.stop()
    const p = await bareStart(runtime)
    bare.push(p.ms)
    await sleep(300)
    bareRss = rssMiB(p.proc.pid)
    await p.proc.stop()
  }
  return { bento: median(bento), bare: median(bare), bareRss }
}

async function throughput(runtime) {
  const bento = await bentoStart(runtime)
  await sleep(300)
  const supervisorRss = rssMiB(bento.proc.pid)
  const ours = []
  const raw = []
  const errors = []
  for (let run = 0; run < RUNS; run++) {
    const a = wrk(bento.port, { seconds: SECONDS })
    ours.push(a.rps)
    errors.push(...a.errors)
    const cluster = await rawCluster(runtime)
    await sleep(300)
    const b = wrk(cluster.port, { seconds: SECONDS })
    raw.push(b.rps)
    errors.push(...b.errors)
    await cluster.stop()
  }
  const supervisorRssAfter = rssMiB(bento.proc.pid)
  await bento.proc.stop()
  return {
    ours: median(ours),
    raw: median(raw),
    supervisorRss,
    supervisorRssAfter,
    errors,
    all: { ours, raw },
  }
}

if (!hasWrk()) {
  console.error('wrk is not installed (apt-get install -y wrk); throughput is skipped')
}
console.log(`machine: ${machine()}`)
console.log(
  `method: ${STARTS} starts each (median); wrk -t2 -c64 -d${SECONDS}s, ${RUNS} alternating runs (median)\n`
)
const rows = []
const targets =
  process.argv.length > 2 ? process.argv.slice(2) : ['node', 'node/shared-socket', 'bun', 'deno']
for (const runtime of targets) {
  const s = await startup(runtime)
  const t = hasWrk() ? await throughput(runtime) : undefined
  rows.push({ runtime, ...s, ...t })
  console.log(
    [
      `${runtime}`,
      `ready: bento 2 workers ${s.bento.toFixed(0)} ms vs bare 1 process ${s.bare.toFixed(0)} ms`,
      t
        ? `supervisor RSS ${t.supervisorRss.toFixed(1)} MiB (${t.supervisorRssAfter.toFixed(1)} after load); a bare process serving hello world: ${s.bareRss.toFixed(1)} MiB`
        : '',
      t
        ? `hello world: bento ${t.ours.toFixed(0)} req/s vs raw cluster ${t.raw.toFixed(0)} req/s (medians); median of the paired runs' ratios ${pairedRatio(t.all).toFixed(2)}x [runs: ${t.all.ours.map(Math.round).join('/')} vs ${t.all.raw.map(Math.round).join('/')}]${t.errors.length ? ` errors: ${t.errors.join('; ')}` : ''}`
        : '',
    ]
      .filter(Boolean)
      .join('\n      ')
  )
}
