import { readFileSync } from 'node:fs'
import { type AddonOptions, loadAddon } from './addon.ts'
import { probeFallback } from './fallback/index.ts'
import { formatProbe } from './format.ts'
import { readEnv, resolveOptions } from './options.ts'
import type { NativeProbeResult, ProbeOptions, ProbeResult } from './types.ts'

export type {
  CgroupInfo,
  CpuInfo,
  GpuInfo,
  MemoryInfo,
  NativeProbeResult,
  NvmlInfo,
  ProbeOptions,
  ProbeResult,
} from './types.ts'
export { formatProbe, probeFallback }

type Implementation = NonNullable<ProbeOptions['implementation']>
const IMPLEMENTATIONS: readonly Implementation[] = ['auto', 'native', 'fallback']

/**
 * Probes CPU, memory and GPUs as this process sees them, from the native addon when it loads and
 * from the TypeScript fallback otherwise.
 *
 * `implementation` defaults to `$BENTO_PROBE`, else `auto`: the addon, falling back (with
 * `fallbackReason` set) when it fails to load or throws. `native` throws instead of falling back;
 * `fallback` never touches the addon.
 *
 * Under Deno without `--allow-all` the fallback cannot read `/proc` or `/sys` and sees only the
 * host; `fallbackReason` then says so.
 *
 * `gpuSource` names the tool whose answer `gpus` is: `nvml` (the addon) or `nvidia-smi` (the
 * fallback) when GPUs were probed and the probe succeeded (`nvml.error` is `null`), so an empty
 * `gpus` then means the machine has none. It is `null` when `gpu` is `false` or the probe failed;
 * `nvml.error` then says why.
 * @example
 * const result = probe()
 * const workers = Math.floor(result.cpu.effective)
 * if (result.source === 'fallback') console.warn(result.fallbackReason)
 */
export function probe(options: ProbeOptions = {}): ProbeResult {
  const { gpu, root } = resolveOptions(options)
  const answer = (result: NativeProbeResult, reason: string | null): ProbeResult => {
    const source = reason === null ? 'native' : 'fallback'
    const fallbackReason = reason === null ? null : reason + denoProcNote(root)
    const tool = source === 'native' ? 'nvml' : 'nvidia-smi'
    const gpuSource = gpu && result.nvml.error === null ? tool : null
    return { ...result, source, fallbackReason, gpuSource }
  }
  const implementation = options.implementation ?? implementationFromEnv() ?? 'auto'
  if (!IMPLEMENTATIONS.includes(implementation)) {
    throw new TypeError(
      `implementation must be "auto", "native" or "fallback", got "${implementation}"`
    )
  }
  if (implementation === 'fallback') {
    const why =
      options.implementation === 'fallback'
        ? 'implementation "fallback" was requested'
        : '$BENTO_PROBE=fallback'
    return answer(probeFallback(options), why)
  }
  if (implementation === 'native') return answer(probeNative(options), null)
  const loaded = loadAddon()
  if ('error' in loaded) {
    return answer(probeFallback(options), `the native addon did not load: ${loaded.error}`)
  }
  try {
    return answer(loaded.addon.probe(addonOptions(options)), null)
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error)
    return answer(probeFallback(options), `the native addon threw: ${message}`)
  }
}

/**
 * Probes with the native addon only; throws when it can't be loaded (or when it throws).
 * @example
 * const { cpu, gpus } = probeNative({ nvmlTimeoutMs: 1000 })
 */
export function probeNative(options: ProbeOptions = {}): NativeProbeResult {
  const loaded = loadAddon()
  if ('error' in loaded) {
    throw new Error(`@bento/native: the native addon did not load: ${loaded.error}`)
  }
  return loaded.addon.probe(addonOptions(options))
}

// The addon reads $BENTO_NVML_LIBRARY itself, but under Bun writes to process.env don't reach C's
// getenv, so the resolved values are passed explicitly.
function addonOptions(options: ProbeOptions): AddonOptions {
  const { gpu, nvmlLibrary, nvmlTimeoutMs } = resolveOptions(options)
  return {
    ...(options.root === undefined ? {} : { root: options.root }),
    gpu,
    ...(nvmlLibrary === undefined ? {} : { nvmlLibrary }),
    nvmlTimeoutMs,
  }
}

function implementationFromEnv(): Implementation | undefined {
  const value = readEnv('BENTO_PROBE')
  if (value === undefined) return undefined
  if (!(IMPLEMENTATIONS as readonly string[]).includes(value)) {
    throw new TypeError(`$BENTO_PROBE must be "auto", "native" or "fallback", got "${value}"`)
  }
  return value as Implementation
}

// Deno (since 1.46) lets only --allow-all read /proc and /sys. Without it the fallback finds no
// cgroup and reports the host's figures, which must not pass for the container's.
function denoProcNote(root: string): string {
  if (root.replace(/\/+$/, '') !== '' || !('Deno' in globalThis)) return ''
  try {
    readFileSync('/proc/self/status')
    return ''
  } catch (error) {
    if ((error as Error).name !== 'NotCapable') return ''
    return "; Deno also denies reading /proc and /sys without --allow-all, so cgroup limits are unknown and the figures are the host's"
  }
}
