import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { probeFallback } from './index.ts'

const root = fileURLToPath(new URL('../../test/fixtures/v2-container', import.meta.url))

describe('probeFallback', () => {
  it('runs nothing with gpu: false', () => {
    // A missing nvidia-smi would set nvml.error if it had been run.
    const result = probeFallback({ root, gpu: false, nvidiaSmi: '/nonexistent/nvidia-smi' })
    expect(result.gpus).toStrictEqual([])
    expect(result.nvml).toStrictEqual({
      loaded: false,
      library: null,
      driverVersion: null,
      cudaDriverVersion: null,
      error: null,
    })
  })

  it('runs nvidia-smi by default', () => {
    const result = probeFallback({ root, nvidiaSmi: '/nonexistent/nvidia-smi' })
    expect(result.nvml.error).toBe('nvidia-smi not found: /nonexistent/nvidia-smi')
  })

  it('reads everything under root', () => {
    const result = probeFallback({ root, gpu: false })
    expect(result.cpu.quotaSource).toBe('/sys/fs/cgroup/cpu.max')
    expect(result.memory.limit).toBe(1073741824)
  })

  it('rejects bad options before reading anything', () => {
    expect(() => probeFallback({ root: '' })).toThrow('root must be a non-empty path')
  })
})
