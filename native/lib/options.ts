import type { ProbeOptions } from './types.ts'

/** The options both implementations act on, defaults and environment applied. */
export interface ResolvedOptions {
  root: string
  gpu: boolean
  nvmlLibrary: string | undefined
  nvmlTimeoutMs: number
  nvidiaSmi: string
}

const DEFAULT_TIMEOUT_MS = 5000

/**
 * Reads an environment variable, treating an empty value as unset.
 *
 * Deno throws on `process.env` reads without `--allow-env`; the probe then acts as if the variable
 * were unset rather than failing.
 * @example
 * const library = readEnv('BENTO_NVML_LIBRARY') ?? 'libnvidia-ml.so.1'
 */
export function readEnv(name: string): string | undefined {
  try {
    const value = process.env[name]
    return value === '' ? undefined : value
  } catch {
    return undefined
  }
}

/**
 * Validates probe options and fills in defaults from the environment.
 * @example
 * const { root, nvmlTimeoutMs } = resolveOptions({ root: '/fixtures/v2' })
 */
export function resolveOptions(options: ProbeOptions = {}): ResolvedOptions {
  if (typeof options !== 'object' || options === null) {
    throw new TypeError(`probe options must be an object, got ${describe(options)}`)
  }
  const { root = '/', gpu = true, nvmlLibrary, nvmlTimeoutMs, nvidiaSmi } = options
  if (typeof root !== 'string' || root === '') {
    throw new TypeError(`root must be a non-empty path, got ${describe(root)}`)
  }
  if (typeof gpu !== 'boolean') throw new TypeError(`gpu must be a boolean, got ${describe(gpu)}`)
  for (const [name, value] of [
    ['nvmlLibrary', nvmlLibrary],
    ['nvidiaSmi', nvidiaSmi],
  ] as const) {
    if (value !== undefined && (typeof value !== 'string' || value === '')) {
      throw new TypeError(`${name} must be a non-empty string, got ${describe(value)}`)
    }
  }
  return {
    root,
    gpu,
    nvmlLibrary: nvmlLibrary ?? readEnv('BENTO_NVML_LIBRARY'),
    nvmlTimeoutMs: resolveTimeout(nvmlTimeoutMs),
    nvidiaSmi: nvidiaSmi ?? readEnv('BENTO_NVIDIA_SMI') ?? 'nvidia-smi',
  }
}

function resolveTimeout(option: number | undefined): number {
  if (option !== undefined) {
    if (typeof option !== 'number' || !Number.isFinite(option) || option <= 0) {
      throw new TypeError(
        `nvmlTimeoutMs must be a positive number of milliseconds, got ${describe(option)}`
      )
    }
    return option
  }
  const text = readEnv('BENTO_NVML_TIMEOUT_MS')
  if (text === undefined) return DEFAULT_TIMEOUT_MS
  const value = Number(text)
  if (!/^\d+$/.test(text.trim()) || value <= 0) {
    throw new TypeError(
      `$BENTO_NVML_TIMEOUT_MS must be a positive whole number of milliseconds, got "${text}"`
    )
  }
  return value
}

function describe(value: unknown): string {
  return typeof value === 'string' ? `"${value}"` : String(value)
}
