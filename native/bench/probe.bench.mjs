// How long one probe takes: the addon without GPUs and with the NVML inventory (against the fake
// libnvidia-ml), and the TypeScript fallback when dist/ is built. Prints the median and p99 in µs
// per probe and whether each meets its target. Run: `pnpm --filter @bento/native bench`.
import { existsSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import { buildFakeNvml } from '../test/fake-nvml/build.mjs'

const TARGETS_US = { cpu: 50, gpu: 1000 }
const WARMUP = 200
const MAX_SAMPLES = 20_000
const BUDGET_MS = 2_000

/** Times `fn` after a warm-up, for at most MAX_SAMPLES calls or BUDGET_MS, in µs per call. */
function measure(fn) {
  for (let i = 0; i < WARMUP; i++) fn()
  const samples = []
  const deadline = performance.now() + BUDGET_MS
  while (samples.length < MAX_SAMPLES && performance.now() < deadline) {
    const started = process.hrtime.bigint()
    fn()
    samples.push(Number(process.hrtime.bigint() - started) / 1e3)
  }
  samples.sort((a, b) => a - b)
  const at = (q) => samples[Math.min(samples.length - 1, Math.floor(samples.length * q))]
  return { n: samples.length, median: at(0.5), p99: at(0.99) }
}

const require = createRequire(import.meta.url)
const { library, nvidiaSmi } = buildFakeNvml()
const cases = []

try {
  const { probe } = require('../index.cjs')
  const gpus = probe({ nvmlLibrary: library })
  if (gpus.nvml.error) throw new Error(`the fake NVML failed: ${gpus.nvml.error}`)
  cases.push(['addon, gpu: false', 'cpu', () => probe({ gpu: false })])
  cases.push(['addon, fake NVML', 'gpu', () => probe({ nvmlLibrary: library })])
} catch (error) {
  console.log(`addon skipped: ${error.message}`)
}

const dist = fileURLToPath(new URL('../dist/index.js', import.meta.url))
const { probeFallback } = existsSync(dist) ? await import(dist) : {}
if (typeof probeFallback === 'function') {
  cases.push(['fallback, gpu: false', 'cpu', () => probeFallback({ gpu: false })])
  cases.push(['fallback, fake nvidia-smi', 'gpu', () => probeFallback({ nvidiaSmi })])
} else {
  console.log('fallback skipped: dist/index.js is not built or has no probeFallback export')
}

const rows = cases.map(([name, kind, fn]) => {
  const { n, median, p99 } = measure(fn)
  const target = TARGETS_US[kind]
  return {
    probe: name,
    'median µs': Number(median.toFixed(1)),
    'p99 µs': Number(p99.toFixed(1)),
    samples: n,
    'target µs': target,
    met: median <= target ? 'yes' : 'no',
  }
})
// `pnpm bench` (bench/run.mjs) collects the rows for BENCHMARKS.md.
if (process.env.BENCH_JSON) writeFileSync(process.env.BENCH_JSON, JSON.stringify(rows))
console.table(rows)
