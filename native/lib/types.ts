/**
 * The shape every probe returns, whichever implementation answered.
 *
 * The native addon (`index.cjs`, typed by `index.d.cts`) returns a `NativeProbeResult`;
 * `probe()` adds `source` and `fallbackReason`. Keep this file, `index.d.cts` and the
 * Rust `src/` output in step: the differential tests compare them field by field.
 */

/**
 * Where a limit or count came from in the cgroup tree of this process.
 * @example
 * const { version, dir } = probe().cpu.cgroup // 2, '/sys/fs/cgroup'
 */
export interface CgroupInfo {
  /** `1` or `2` for the hierarchy that holds this controller, `null` when none is mounted. */
  version: 1 | 2 | null
  /** The process's cgroup path as `/proc/self/cgroup` lists it, e.g. `/kubepods/pod1/abc`. */
  path: string | null
  /** The directory that path resolves to under the mount, e.g. `/sys/fs/cgroup/cpu/abc`. */
  dir: string | null
  /** True when v1 controller hierarchies and a cgroup2 mount are both present. */
  hybrid: boolean
}

/**
 * CPU counts, all in cores; fractions are kept (a 1.5-CPU quota is `1.5`).
 * @example
 * const workers = Math.max(1, Math.floor(probe().cpu.effective))
 */
export interface CpuInfo {
  /** Logical CPUs online on the host (`/sys/devices/system/cpu/online`). */
  host: number
  /** CPUs this process may run on (`sched_getaffinity`, or `Cpus_allowed_list`). */
  affinity: number
  /** The tightest CFS quota over the process's cgroup and every ancestor, `null` when none. */
  quota: number | null
  /** The file the quota was read from, e.g. `/sys/fs/cgroup/cpu/x/cpu.cfs_quota_us`. */
  quotaSource: string | null
  /** CPUs in the cgroup's effective cpuset, `null` when not known. */
  cpuset: number | null
  /** The file the cpuset was read from. */
  cpusetSource: string | null
  /** `min(quota, cpuset, affinity, host)`, a float. */
  effective: number
  /** The cgroup that holds the `cpu` controller. */
  cgroup: CgroupInfo
}

/**
 * Memory in bytes.
 * @example
 * const { limit, host } = probe().memory
 * const budget = limit ?? host
 */
export interface MemoryInfo {
  /** The tightest memory limit over the process's cgroup and every ancestor, `null` when none. */
  limit: number | null
  /** The file the limit was read from. */
  limitSource: string | null
  /** Current usage of the process's memory cgroup, `null` when not known. */
  usage: number | null
  /** Physical memory of the host (`MemTotal` in `/proc/meminfo`). */
  host: number | null
  /** The cgroup that holds the `memory` controller. */
  cgroup: CgroupInfo
}

/**
 * One NVIDIA GPU as NVML (or `nvidia-smi`) describes it.
 * @example
 * const visible = probe().gpus.map((gpu) => gpu.uuid).join(',') // for CUDA_VISIBLE_DEVICES
 */
export interface GpuInfo {
  /** NVML's 0-based device index. */
  index: number
  /** `GPU-…` UUID, stable across reboots and usable in `CUDA_VISIBLE_DEVICES`. */
  uuid: string
  name: string
  /** Bytes. The `nvidia-smi` fallback only knows MiB, so its values are whole MiB. */
  memoryTotal: number
  memoryFree: number
  /** E.g. `00000000:17:00.0`. */
  pciBusId: string
  mig: {
    /** Current MIG mode. */
    enabled: boolean
    /** `MIG-…` UUIDs of the MIG devices on this GPU, in NVML order. */
    devices: string[]
  }
}

/**
 * What was learnt about the NVIDIA driver, or why nothing was.
 * @example
 * const { nvml } = probe()
 * if (nvml.error) console.warn(`no GPUs: ${nvml.error}`)
 */
export interface NvmlInfo {
  /** True when NVML was opened and initialised in this call. */
  loaded: boolean
  /** The library that was opened (or tried), `null` when GPUs were not probed. */
  library: string | null
  /** E.g. `560.35.03`. */
  driverVersion: string | null
  /** The CUDA version the driver supports, e.g. `12.6`. */
  cudaDriverVersion: string | null
  /** Why `gpus` is empty or incomplete, `null` when all went well. */
  error: string | null
}

/**
 * What the native addon returns, and `probeNative()` and `probeFallback()`.
 * @example
 * const { cpu, memory, gpus, nvml }: NativeProbeResult = probeFallback({ gpu: false })
 */
export interface NativeProbeResult {
  cpu: CpuInfo
  memory: MemoryInfo
  gpus: GpuInfo[]
  nvml: NvmlInfo
}

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
export interface ProbeOptions {
  /**
   * Read every `/proc` and `/sys` path under this directory instead of `/` (tests use fixture
   * trees). When it is not `/`, host and affinity counts also come from files, not syscalls.
   */
  root?: string
  /** Probe GPUs. Default `true`. */
  gpu?: boolean
  /** NVML library to open. Default `$BENTO_NVML_LIBRARY`, else `libnvidia-ml.so.1`. */
  nvmlLibrary?: string
  /** Give up on NVML (or `nvidia-smi`) after this long. Default `$BENTO_NVML_TIMEOUT_MS`, else 5000. */
  nvmlTimeoutMs?: number
  /** Fallback only: the `nvidia-smi` to run. Default `$BENTO_NVIDIA_SMI`, else `nvidia-smi`. */
  nvidiaSmi?: string
  /** `auto` (default) tries the addon first; `native` fails without it; `fallback` skips it. */
  implementation?: 'auto' | 'native' | 'fallback'
}
