import { fileURLToPath } from 'node:url'
import { afterEach, beforeEach, describe, expect, inject, it, vi } from 'vitest'
import type { Addon } from './addon.ts'
import { probe, probeNative } from './index.ts'
import type { NativeProbeResult } from './types.ts'

// probe() is tested against a stand-in addon, so every path (loads, fails to load, throws) runs
// whether or not the real one is built; the real addon is covered by differential.test.ts.
const loadAddon = vi.hoisted(() => vi.fn())
vi.mock('./addon.ts', () => ({ loadAddon }))

const root = fileURLToPath(new URL('../test/fixtures/v2-container', import.meta.url))

const NATIVE: NativeProbeResult = {
  cpu: {
    host: 4,
    affinity: 4,
    quota: null,
    quotaSource: null,
    cpuset: null,
    cpusetSource: null,
    effective: 4,
    cgroup: { version: null, path: null, dir: null, hybrid: false },
  },
  memory: {
    limit: null,
    limitSource: null,
    usage: null,
    host: 1024,
    cgroup: { version: null, path: null, dir: null, hybrid: false },
  },
  gpus: [],
  nvml: {
    loaded: true,
    library: 'libnvidia-ml.so.1',
    driverVersion: '560.35.03',
    cudaDriverVersion: '12.6',
    error: null,
  },
}

function stubAddon(probe: Addon['probe']) {
  const addon = { probe: vi.fn(probe), version: '0.0.0' }
  loadAddon.mockReturnValue({ addon })
  return addon
}

beforeEach(() => {
  loadAddon.mockReset()
  vi.stubEnv('BENTO_PROBE', '')
  vi.stubEnv('BENTO_NVML_LIBRARY', '')
  vi.stubEnv('BENTO_NVML_TIMEOUT_MS', '')
})
afterEach(() => {
  vi.unstubAllEnvs()
})

describe('probe', () => {
  it('answers from the addon, passing the resolved NVML options explicitly', () => {
    vi.stubEnv('BENTO_NVML_LIBRARY', '/env/libnvidia-ml.so.1')
    const addon = stubAddon(() => NATIVE)
    expect(probe({ root, nvmlTimeoutMs: 250 })).toStrictEqual({
      ...NATIVE,
      source: 'native',
      fallbackReason: null,
      gpuSource: 'nvml',
    })
    expect(addon.probe).toHaveBeenCalledWith({
      root,
      gpu: true,
      nvmlLibrary: '/env/libnvidia-ml.so.1',
      nvmlTimeoutMs: 250,
    })
  })

  it('leaves out options nobody set', () => {
    const addon = stubAddon(() => NATIVE)
    probe({ gpu: false })
    expect(addon.probe).toHaveBeenCalledWith({ gpu: false, nvmlTimeoutMs: 5000 })
  })

  it('has no GPU source when GPUs were not probed or NVML failed', () => {
    stubAddon(() => NATIVE)
    expect(probe({ gpu: false }).gpuSource).toBeNull()
    stubAddon(() => ({ ...NATIVE, nvml: { ...NATIVE.nvml, loaded: false, error: 'no NVML' } }))
    expect(probe().gpuSource).toBeNull()
  })

  it('falls back when the addon does not load, saying why', () => {
    loadAddon.mockReturnValue({ error: 'no binary for linux-riscv64' })
    const result = probe({ root, gpu: false })
    expect(result.source).toBe('fallback')
    expect(result.fallbackReason).toBe('the native addon did not load: no binary for linux-riscv64')
    expect(result.cpu.quota).toBe(2)
    expect(result.gpuSource).toBeNull()
  })

  it('falls back when the addon throws', () => {
    stubAddon(() => {
      throw new Error('boom')
    })
    const result = probe({ root, gpu: false })
    expect(result.source).toBe('fallback')
    expect(result.fallbackReason).toBe('the native addon threw: boom')
  })

  it('names nvidia-smi as the GPU source when the fallback ran it successfully', () => {
    vi.stubEnv('FAKE_NVML_DEVICES', '1')
    const result = probe({
      root,
      implementation: 'fallback',
      nvidiaSmi: inject('fakeNvml').nvidiaSmi,
    })
    expect(result.gpus).toHaveLength(1)
    expect(result.gpuSource).toBe('nvidia-smi')
  })

  it('never touches the addon with implementation "fallback"', () => {
    const result = probe({ root, gpu: false, implementation: 'fallback' })
    expect(loadAddon).not.toHaveBeenCalled()
    expect(result).toMatchObject({
      source: 'fallback',
      fallbackReason: 'implementation "fallback" was requested',
    })
  })

  it('throws instead of falling back with implementation "native"', () => {
    loadAddon.mockReturnValue({ error: 'Requires ffi access' })
    expect(() => probe({ implementation: 'native' })).toThrow(
      '@bento/native: the native addon did not load: Requires ffi access'
    )
    stubAddon(() => {
      throw new Error('boom')
    })
    expect(() => probe({ implementation: 'native' })).toThrow('boom')
  })

  it('takes the default implementation from $BENTO_PROBE, below the option', () => {
    stubAddon(() => NATIVE)
    vi.stubEnv('BENTO_PROBE', 'fallback')
    expect(probe({ root, gpu: false })).toMatchObject({
      source: 'fallback',
      fallbackReason: '$BENTO_PROBE=fallback',
    })
    expect(probe({ gpu: false, implementation: 'auto' }).source).toBe('native')
    vi.stubEnv('BENTO_PROBE', 'native')
    loadAddon.mockReturnValue({ error: 'missing' })
    expect(() => probe({ gpu: false })).toThrow('the native addon did not load: missing')
  })

  it('rejects an unknown implementation', () => {
    // biome-ignore lint/suspicious/noExplicitAny: a wrong value, as from plain JS
    expect(() => probe({ implementation: 'wasm' as any })).toThrow(
      'implementation must be "auto", "native" or "fallback", got "wasm"'
    )
    vi.stubEnv('BENTO_PROBE', 'rust')
    expect(() => probe()).toThrow('$BENTO_PROBE must be "auto", "native" or "fallback", got "rust"')
  })

  it('rejects bad options whichever implementation would answer', () => {
    stubAddon(() => NATIVE)
    expect(() => probe({ nvmlTimeoutMs: -1 })).toThrow('nvmlTimeoutMs must be a positive number')
  })
})

describe('probeNative', () => {
  it("returns the addon's answer as is", () => {
    stubAddon(() => NATIVE)
    expect(probeNative({ gpu: false })).toBe(NATIVE)
  })

  it('throws when the addon does not load', () => {
    loadAddon.mockReturnValue({ error: 'missing' })
    expect(() => probeNative()).toThrow('@bento/native: the native addon did not load: missing')
  })
})
