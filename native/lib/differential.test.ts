// The addon and the fallback must give identical answers (docs/architecture.md). Every fixture tree
// is probed by both and checked against its hand-written expected.json; GPUs are compared over the
// fake NVML library (addon) and the fake nvidia-smi (fallback), which share one inventory.
import { readdirSync, readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describe, expect, inject, it } from 'vitest'
import { requireAddon } from '../test/require-addon.ts'
import { runProbe } from '../test/run-probe.ts'
import { probeFallback } from './fallback/index.ts'
import type { ProbeOptions } from './types.ts'

const fixtures = fileURLToPath(new URL('../test/fixtures/', import.meta.url))
const cases = readdirSync(fixtures, { withFileTypes: true })
  .filter((entry) => entry.isDirectory())
  .map((entry) => entry.name)

const NO_GPU_PROBE = {
  loaded: false,
  library: null,
  driverVersion: null,
  cudaDriverVersion: null,
  error: null,
}

it('finds the fixture trees', () => {
  expect(cases.length).toBeGreaterThanOrEqual(15)
})

describe.each(cases)('fixture %s', (name) => {
  const root = fixtures + name
  const expected = JSON.parse(readFileSync(`${root}/expected.json`, 'utf8'))

  it('the fallback gives expected.json', () => {
    const result = probeFallback({ root, gpu: false })
    expect({ cpu: result.cpu, memory: result.memory }).toStrictEqual(expected)
    expect(result.gpus).toStrictEqual([])
    expect(result.nvml).toStrictEqual(NO_GPU_PROBE)
  })

  it('the addon gives expected.json, and exactly what the fallback gives', (ctx) => {
    const native = requireAddon(ctx).probe({ root, gpu: false })
    expect({ cpu: native.cpu, memory: native.memory }).toStrictEqual(expected)
    expect(native).toStrictEqual(probeFallback({ root, gpu: false }))
  })
})

describe('GPUs: NVML in the addon and nvidia-smi in the fallback', () => {
  const fake = inject('fakeNvml')
  // Children, because the fake reads its inventory from the environment and the addon keeps NVML
  // initialised for the life of its process.
  const both = (env: Record<string, string>, options: ProbeOptions = {}) => ({
    native: runProbe(
      {
        implementation: 'native',
        nvmlLibrary: fake.library,
        root: fixtures + 'v2-container',
        ...options,
      },
      { env }
    ),
    fallback: runProbe(
      {
        implementation: 'fallback',
        nvidiaSmi: fake.nvidiaSmi,
        root: fixtures + 'v2-container',
        ...options,
      },
      { env }
    ),
  })

  it.for([
    ['no GPU', { FAKE_NVML_DEVICES: '0' }],
    ['one GPU', { FAKE_NVML_DEVICES: '1' }],
    ['two GPUs', { FAKE_NVML_DEVICES: '2' }],
    ['two GPUs, the second in MIG mode', { FAKE_NVML_DEVICES: '2', FAKE_NVML_MIG: '1' }],
  ] as const)('%s: the same GPUs and versions', ([, env], ctx) => {
    requireAddon(ctx)
    const { native, fallback } = both(env)
    expect(native.nvml.error).toBeNull()
    expect(fallback.nvml.error).toBeNull()
    expect(native.gpus).toHaveLength(Number(env.FAKE_NVML_DEVICES))
    expect(fallback.gpus).toStrictEqual(native.gpus)
    expect(fallback.nvml.driverVersion).toBe(native.nvml.driverVersion)
    expect(fallback.nvml.cudaDriverVersion).toBe(native.nvml.cudaDriverVersion)
    expect(native.nvml.driverVersion).toBe('560.35.03')
    expect(native.nvml.cudaDriverVersion).toBe('12.6')
    expect([native.gpuSource, fallback.gpuSource]).toStrictEqual(['nvml', 'nvidia-smi'])
    expect(native.nvml).toMatchObject({ loaded: true, library: fake.library })
    expect(fallback.nvml).toMatchObject({ loaded: false, library: null })
  })

  it('a driver that fails to initialise gives no GPUs and an error in both', (ctx) => {
    requireAddon(ctx)
    const { native, fallback } = both({ FAKE_NVML_INIT_ERROR: '9' })
    for (const result of [native, fallback]) {
      expect(result.gpus).toStrictEqual([])
      expect(result.gpuSource).toBeNull()
    }
    expect(native.nvml.error).toBe('nvmlInit_v2 failed: Driver Not Loaded (9)')
    expect(fallback.nvml.error).toBe(
      `${fake.nvidiaSmi} --query-gpu exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.`
    )
  })

  it('a hung driver gives no GPUs and an error naming the timeout in both', (ctx) => {
    requireAddon(ctx)
    const started = Date.now()
    const { native, fallback } = both({ FAKE_NVML_INIT_DELAY_MS: '5000' }, { nvmlTimeoutMs: 300 })
    expect(Date.now() - started).toBeLessThan(4500)
    for (const result of [native, fallback]) {
      expect(result.gpus).toStrictEqual([])
      expect(result.nvml.error).toContain('300 ms')
    }
    expect(fallback.nvml.error).toBe(`${fake.nvidiaSmi} --query-gpu timed out after 300 ms`)
  })

  it('a missing tool gives an error naming it', (ctx) => {
    requireAddon(ctx)
    const { native, fallback } = both(
      {},
      { nvmlLibrary: '/nonexistent/libnvidia-ml.so.1', nvidiaSmi: '/nonexistent/nvidia-smi' }
    )
    expect(native.nvml.error).toContain('/nonexistent/libnvidia-ml.so.1')
    expect(fallback.nvml.error).toBe('nvidia-smi not found: /nonexistent/nvidia-smi')
    for (const result of [native, fallback]) expect(result.gpus).toStrictEqual([])
  })
})
