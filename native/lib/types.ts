// The shape every probe returns, whichever implementation answered. The addon's result types are
// written once, in index.d.cts (the published types of `@bento/native/addon`, kept in step with
// the Rust result in src/ by the differential tests); this adds what `probe()` and the
// TypeScript fallback add.
import type { NativeProbeOptions, NativeProbeResult } from '../index.d.cts'

export type {
  CgroupInfo,
  CpuInfo,
  GpuInfo,
  MemoryInfo,
  NativeProbeResult,
  NvmlInfo,
} from '../index.d.cts'

/**
 * What `probe()` returns.
 * @example
 * const result: ProbeResult = probe()
 * if (result.source === 'fallback') console.warn(result.fallbackReason)
 */
export interface ProbeResult extends NativeProbeResult {
  /** Which implementation answered. */
  source: 'native' | 'fallback'
  /** Why the addon did not answer, when `source` is `fallback`. */
  fallbackReason: string | null
  /** Where the GPU list came from: NVML, `nvidia-smi`, or nowhere. */
  gpuSource: 'nvml' | 'nvidia-smi' | null
}

/**
 * Options shared by both implementations.
 * @example
 * const options: ProbeOptions = { root: '/tmp/fixture', gpu: false }
 */
export interface ProbeOptions extends NativeProbeOptions {
  /** Probe GPUs (through NVML, or `nvidia-smi` in the fallback). Default `true`. */
  gpu?: boolean
  /** Give up on NVML (or `nvidia-smi`) after this long. Default `$BENTO_NVML_TIMEOUT_MS`, else 5000. */
  nvmlTimeoutMs?: number
  /** Fallback only: the `nvidia-smi` to run. Default `$BENTO_NVIDIA_SMI`, else `nvidia-smi`. */
  nvidiaSmi?: string
  /** `auto` (default) tries the addon first; `native` fails without it; `fallback` skips it. */
  implementation?: 'auto' | 'native' | 'fallback'
}
