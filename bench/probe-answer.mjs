// Run inside a cgroup by bench/run.mjs: what each way of counting CPUs answers there, and how long
// one call takes (median of many). Prints one JSON object.
import os from 'node:os'

function time(fn, budgetMs = 500) {
  for (let i = 0; i < 100; i++) fn()
  const samples = []
  const end = performance.now() + budgetMs
  while (performance.now() < end && samples.length < 20_000) {
    const t0 = performance.now()
    fn()
    samples.push((performance.now() - t0) * 1000)
  }
  samples.sort((a, b) => a - b)
  return samples[Math.floor(samples.length / 2)]
}

const out = {}
if (globalThis.Bun) {
  out['navigator.hardwareConcurrency (Bun)'] = {
    answer: navigator.hardwareConcurrency,
    us: time(() => navigator.hardwareConcurrency),
  }
} else {
  const { probe, probeFallback } = await import('@bento/native')
  out['@bento/native addon'] = {
    answer: probe({ gpu: false, implementation: 'native' }).cpu.effective,
    us: time(() => probe({ gpu: false, implementation: 'native' })),
  }
  out['@bento/native TypeScript fallback'] = {
    answer: probeFallback({ gpu: false }).cpu.effective,
    us: time(() => probeFallback({ gpu: false })),
  }
  out['os.availableParallelism() (Node)'] = {
    answer: os.availableParallelism(),
    us: time(() => os.availableParallelism()),
  }
  out['os.cpus().length (Node, as PM2)'] = {
    answer: os.cpus().length,
    us: time(() => os.cpus().length, 200),
  }
}
console.log(JSON.stringify(out))
