import { request } from 'node:http'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from '../../native/test/fake-nvml/build.mjs'
import { RUNTIMES, startBento } from '../../test/support/bento.ts'

const cwd = fileURLToPath(new URL('.', import.meta.url))
let fakeEnv: Record<string, string>

beforeAll(() => {
  const { library } = buildFakeNvml()
  // Two fake H100s through the real addon and NVML code path.
  fakeEnv = { BENTO_NVML_LIBRARY: library, FAKE_NVML_DEVICES: '2' }
})

/** GET on a fresh connection each time, so the kernel can hand it to either worker. */
function whoami(url: string): Promise<{
  workerIndex: number
  cudaVisibleDevices: string
  cudaDeviceOrder: string
  gpus: string[]
  device: string
}> {
  return new Promise((resolve, reject) => {
    request(`${url}/whoami`, { agent: false }, (response) => {
      let text = ''
      response.setEncoding('utf8')
      response.on('data', (chunk) => (text += chunk))
      response.on('end', () => resolve(JSON.parse(text)))
    })
      .on('error', reject)
      .end()
  })
}

describe.each(RUNTIMES)('gpu-per-worker on %s', (runtime) => {
  it('gives worker 1 the first GPU and worker 2 the second, pinned by UUID', async () => {
    const bento = startBento(runtime, ['serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
      env: fakeEnv,
    })
    const url = await bento.url()
    const seen = new Map<number, Awaited<ReturnType<typeof whoami>>>()
    for (let i = 0; i < 200 && seen.size < 2; i++) {
      const answer = await whoami(url)
      seen.set(answer.workerIndex, answer)
    }
    expect([...seen.keys()].sort()).toEqual([1, 2])
    expect(seen.get(1)).toMatchObject({
      cudaVisibleDevices: 'GPU-fa4e0000-0000-4000-8000-000000000000',
      cudaDeviceOrder: 'PCI_BUS_ID',
      gpus: ['GPU-fa4e0000-0000-4000-8000-000000000000'],
      device: 'cuda:0',
    })
    expect(seen.get(2)?.cudaVisibleDevices).toBe('GPU-fa4e0000-0000-4000-8000-000000000001')
    expect(bento.output).toMatch(/worker 1 owns GPU-fa4e0000-0000-4000-8000-000000000000/)
    expect((await bento.stop()).code).toBe(0)
  })
})

describe('gpu-per-worker plan', () => {
  it('shows each worker its GPU in `bento info --json`', async () => {
    const bento = startBento('node', ['info', 'service.ts', '--json'], { cwd, env: fakeEnv })
    const { code } = await bento.exited
    expect(code).toBe(0)
    const info = JSON.parse(bento.output)
    expect(info.gpus).toHaveLength(2)
    expect(info.plan.workers).toBe(2)
    expect(
      info.plan.assignments.map((a: { env: Record<string, string> }) => a.env.CUDA_VISIBLE_DEVICES)
    ).toEqual([
      'GPU-fa4e0000-0000-4000-8000-000000000000',
      'GPU-fa4e0000-0000-4000-8000-000000000001',
    ])
  })

  it('refuses to start, before any worker, when the machine has fewer GPUs than asked', async () => {
    const bento = startBento('node', ['serve', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
      env: { ...fakeEnv, FAKE_NVML_DEVICES: '1' },
    })
    const { code } = await bento.exited
    expect(code).toBe(1)
    expect(bento.output).toMatch(/resources\.gpu/)
    expect(bento.output).toMatch(/Fix:/)
    expect(bento.output).not.toMatch(/worker 1/)
    expect(bento.output).not.toMatch(/\n\s+at /)
  })
})
