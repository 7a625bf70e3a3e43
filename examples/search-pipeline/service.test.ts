import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from '../../native/test/fake-nvml/build.mjs'
import { postJson, RUNTIMES, startBento } from '../../test/support/bento.ts'

const cwd = fileURLToPath(new URL('.', import.meta.url))
const model = fileURLToPath(new URL('../onnx-classifier/model/model.onnx', import.meta.url))
const serve = ['serve', '--port', '0', '--host', '127.0.0.1']

beforeAll(() => {
  if (!existsSync(model)) {
    throw new Error(
      `${model} is missing: run \`pnpm --filter @bento/example-onnx-classifier build\``
    )
  }
})

interface Hit {
  text: string
  label: 'positive' | 'negative'
  score: number
  worker: number
  device: string
}

describe.each(RUNTIMES)('search-pipeline on %s', (runtime) => {
  it('ranks reviews on the API tier and labels them on the model tier', async () => {
    const bento = startBento(runtime, serve, { cwd })
    const url = await bento.url(90_000)
    // The model tier started first, with its own workers on private sockets.
    expect(bento.output).toMatch(
      /classifier: resources\.cpu: 1 -> ceil\(1\) x workersPerResource 2 = 2 workers/
    )
    expect(bento.output).toMatch(/classifier: starting 2 \w+ workers on private Unix sockets/)

    const all = await postJson(`${url}/search`, { q: 'ramen lunch bento', limit: 6 })
    expect(all.status).toBe(200)
    const hits = all.body.hits as Hit[]
    expect(hits.length).toBeGreaterThanOrEqual(4)
    const labelOf = (start: string) => hits.find((h) => h.text.startsWith(start))?.label
    expect(labelOf('Great lunch')).toBe('positive')
    expect(labelOf('Terrible service')).toBe('negative')
    // The calls of one request were spread over both model workers.
    expect(new Set(hits.map((h) => h.worker))).toEqual(new Set([1, 2]))

    const happy = await postJson(`${url}/search`, { q: 'ramen sushi lunch', sentiment: 'positive' })
    expect(happy.status, JSON.stringify(happy.body)).toBe(200)
    expect((happy.body.hits as Hit[]).every((h) => h.label === 'positive')).toBe(true)
    expect(await postJson(`${url}/search`, { q: '' })).toMatchObject({ status: 400 })

    const metrics = await (await fetch(`${url}/metrics`)).text()
    expect(metrics).toMatch(/^bento_batch_size_count\{service="classifier",api="classify"\} [1-9]/m)
    expect(metrics).toMatch(
      /^bento_dependency_calls_total\{service="search",dependency="classifier",api="classify",outcome="200"\} [1-9]/m
    )
    expect((await bento.stop()).code).toBe(0)
  })
})

// The GPU variant's pinning is the plan's and the supervisor's, the same on every runtime (and
// test/graph-gpu.test.ts checks it per runtime): here it runs once, as this file runs alone.
describe('search-pipeline, GPU variant', () => {
  it('pins each model worker to its own GPU in the GPU variant (fake NVML)', async () => {
    const { library } = buildFakeNvml()
    const env = { BENTO_NVML_LIBRARY: library, FAKE_NVML_DEVICES: '2' }
    const info = startBento('node', ['info', 'gpu.ts', '--json'], { cwd, env })
    expect((await info.exited).code).toBe(0)
    const plan = JSON.parse(info.output.slice(info.output.indexOf('{')))
    const pools = Object.fromEntries(
      plan.services.map((s: { name: string; plan: { assignments: { gpus: string[] }[] } }) => [
        s.name,
        s.plan.assignments.map((a) => a.gpus),
      ])
    )
    const gpu = (n: number) => `GPU-fa4e0000-0000-4000-8000-00000000000${n}`
    expect(pools.classifier).toEqual([[gpu(0)], [gpu(1)]])
    expect(pools.search.every((gpus: string[]) => gpus.length === 0)).toBe(true)

    const bento = startBento('node', [...serve, 'gpu.ts'], { cwd, env })
    const url = await bento.url(90_000)
    await bento.waitFor(/\[classifier 2\] worker 2 owns GPU-fa4e0000-0000-4000-8000-000000000001/)
    const devices = new Map<number, string>()
    for (let i = 0; i < 10 && devices.size < 2; i++) {
      const { body } = await postJson(`${url}/search`, { q: 'ramen lunch bento sushi', limit: 8 })
      for (const hit of body.hits as Hit[]) devices.set(hit.worker, hit.device)
    }
    expect(devices.get(1)).toBe(gpu(0))
    expect(devices.get(2)).toBe(gpu(1))
    expect((await bento.stop()).code).toBe(0)
  })
})
