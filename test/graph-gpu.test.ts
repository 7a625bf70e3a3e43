// One GPU allocator for a whole graph, through the real addon and a fake NVML: two GPU services
// get different devices, fractions share one, and a graph asking for more GPUs than there are
// fails before any worker starts, naming the services. On Node, Bun and Deno.
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from '../native/test/fake-nvml/build.mjs'
import { RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/graph/', import.meta.url))
const uuid = (n: number) => `GPU-fa4e0000-0000-4000-8000-00000000000${n}`
let library: string

beforeAll(() => {
  library = buildFakeNvml().library
})

const env = (gpus: number, each: number) => ({
  BENTO_NVML_LIBRARY: library,
  FAKE_NVML_DEVICES: String(gpus),
  GPUS_EACH: String(each),
})

interface Pool {
  name: string
  plan: { workers: number; assignments: { workerIndex: number; gpus: string[] }[] }
}

async function planOf(runtime: (typeof RUNTIMES)[number], e: Record<string, string>) {
  const info = startBento(runtime, ['info', 'gpus.ts', '--json'], { cwd, env: e })
  expect((await info.exited).code).toBe(0)
  const body = JSON.parse(info.output.slice(info.output.indexOf('{')))
  return Object.fromEntries(
    (body.services as Pool[]).map((s) => [s.name, s.plan.assignments.map((a) => a.gpus)])
  )
}

describe.each(RUNTIMES)('GPUs across a graph on %s', (runtime) => {
  it('gives each GPU service its own device, and each worker sees only its own', async () => {
    expect(await planOf(runtime, env(2, 1))).toEqual({
      embedder: [[uuid(0)]],
      reranker: [[uuid(1)]],
      api: [[]],
    })
    const bento = startBento(runtime, ['serve', 'gpus.ts', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
      env: env(2, 1),
    })
    const url = await bento.url(60_000)
    const devices = await (await fetch(`${url}/devices`)).json()
    expect(devices).toEqual({
      embedder: { worker: 1, gpus: [uuid(0)] },
      reranker: { worker: 1, gpus: [uuid(1)] },
    })
    expect((await bento.stop()).code).toBe(0)
  })

  it('lets fractions of two services share one device', async () => {
    expect(await planOf(runtime, env(1, 0.5))).toEqual({
      embedder: [[uuid(0)]],
      reranker: [[uuid(0)]],
      api: [[]],
    })
  })

  it('refuses a graph that asks for more GPUs than exist, naming the services', async () => {
    const bento = startBento(runtime, ['serve', 'gpus.ts', '--port', '0'], { cwd, env: env(1, 1) })
    expect((await bento.exited).code).toBe(1)
    expect(bento.output).toMatch(
      /service "reranker": resources\.gpu needs 1 GPU for 1 worker but none is available \(NVML found 1 GPU; other services of the graph hold the rest: "embedder" has GPU-fa4e0000-0000-4000-8000-000000000000\)/
    )
    expect(bento.output).not.toMatch(/starting \d+ \w+ workers/)
  })
})
