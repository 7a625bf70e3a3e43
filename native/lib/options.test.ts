import { afterEach, describe, expect, it, vi } from 'vitest'
import { readEnv, resolveOptions } from './options.ts'

afterEach(() => {
  vi.unstubAllEnvs()
})

describe('resolveOptions', () => {
  it('fills in the defaults', () => {
    vi.stubEnv('BENTO_NVML_LIBRARY', '')
    vi.stubEnv('BENTO_NVML_TIMEOUT_MS', '')
    vi.stubEnv('BENTO_NVIDIA_SMI', '')
    expect(resolveOptions()).toStrictEqual({
      root: '/',
      gpu: true,
      nvmlLibrary: undefined,
      nvmlTimeoutMs: 5000,
      nvidiaSmi: 'nvidia-smi',
    })
  })

  it('takes the environment over the defaults, and options over both', () => {
    vi.stubEnv('BENTO_NVML_LIBRARY', '/env/libnvidia-ml.so.1')
    vi.stubEnv('BENTO_NVML_TIMEOUT_MS', '250')
    vi.stubEnv('BENTO_NVIDIA_SMI', '/env/nvidia-smi')
    expect(resolveOptions({})).toMatchObject({
      nvmlLibrary: '/env/libnvidia-ml.so.1',
      nvmlTimeoutMs: 250,
      nvidiaSmi: '/env/nvidia-smi',
    })
    expect(
      resolveOptions({ nvmlLibrary: '/opt/lib.so', nvmlTimeoutMs: 10, nvidiaSmi: '/opt/smi' })
    ).toMatchObject({ nvmlLibrary: '/opt/lib.so', nvmlTimeoutMs: 10, nvidiaSmi: '/opt/smi' })
  })

  it.each([
    [null, 'probe options must be an object, got null'],
    [{ root: '' }, 'root must be a non-empty path, got ""'],
    [{ root: 7 }, 'root must be a non-empty path, got 7'],
    [{ gpu: 'yes' }, 'gpu must be a boolean, got "yes"'],
    [{ nvmlLibrary: '' }, 'nvmlLibrary must be a non-empty string, got ""'],
    [{ nvidiaSmi: 1 }, 'nvidiaSmi must be a non-empty string, got 1'],
    [{ nvmlTimeoutMs: 0 }, 'nvmlTimeoutMs must be a positive number of milliseconds, got 0'],
    [{ nvmlTimeoutMs: Number.NaN }, 'nvmlTimeoutMs must be a positive number of milliseconds'],
    [{ nvmlTimeoutMs: '5' }, 'nvmlTimeoutMs must be a positive number of milliseconds, got "5"'],
  ])('rejects %j', (options, message) => {
    // biome-ignore lint/suspicious/noExplicitAny: deliberately wrong types, as from plain JS
    expect(() => resolveOptions(options as any)).toThrow(message)
  })

  it.each(['soon', '-5', '0', '1.5'])('rejects $BENTO_NVML_TIMEOUT_MS=%s', (value) => {
    vi.stubEnv('BENTO_NVML_TIMEOUT_MS', value)
    expect(() => resolveOptions()).toThrow(
      `$BENTO_NVML_TIMEOUT_MS must be a positive whole number of milliseconds, got "${value}"`
    )
  })
})

describe('readEnv', () => {
  it('treats an empty variable as unset', () => {
    vi.stubEnv('BENTO_TEST_VAR', '')
    expect(readEnv('BENTO_TEST_VAR')).toBeUndefined()
    vi.stubEnv('BENTO_TEST_VAR', 'x')
    expect(readEnv('BENTO_TEST_VAR')).toBe('x')
  })
})
