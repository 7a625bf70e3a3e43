// Types of index.cjs, the native addon loader, and the one definition of the probe's result types
// (lib/types.ts re-exports them). Hand-written: keep in step with the Rust result in src/lib.rs
// (the differential tests compare them field by field).

/**
 * Where a limit or count came from in the cgroup tree of this process.
 * @example
 * const { version, dir } = probe().cpu.cgroup // 2, '/sys/fs/cgroup/user.slice/app.service'
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
 * One NVIDIA GPU as NVML describes it.
 * @example
 * const visible = probe().gpus.map((gpu) => gpu.uuid).join(',') // for CUDA_VISIBLE_DEVICES
 */
export interface GpuInfo {
  /** NVML's 0-based device index. */
  index: number
  /** `GPU-…` UUID, stable across reboots and usable in `CUDA_VISIBLE_DEVICES`. */
  uuid: string
  /** The product name, e.g. `NVIDIA H100 80GB HBM3`. */
  name: string
  /** Total memory in bytes. */
  memoryTotal: number
  /** Free memory in bytes, read afresh on every probe. */
  memoryFree: number
  /** E.g. `00000000:17:00.0`. */
  pciBusId: string
  /** Multi-Instance GPU state. */
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
 * const { error } = probe().nvml // e.g. 'nvmlInit_v2 failed: Driver Not Loaded (9)'
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
 * What the native addon's `probe()` returns.
 * @example
 * const { cpu, memory, gpus, nvml } = probe()
 */
export interface NativeProbeResult {
  /** CPU counts and the cgroup they came from. */
  cpu: CpuInfo
  /** Memory limit, usage and host total. */
  memory: MemoryInfo
  /** The NVIDIA GPUs NVML lists, `[]` when there are none or NVML failed (see `nvml.error`). */
  gpus: GpuInfo[]
  /** How the GPU inventory went. */
  nvml: NvmlInfo
}

/**
 * Options of the addon's `probe()`; every one may be left out.
 * @example
 * probe({ gpu: false, root: '/tmp/fixture' })
 */
export interface NativeProbeOptions {
  /**
   * Read every `/proc` and `/sys` path under this directory instead of `/` (tests use fixture
   * trees). When it is not `/`, the affinity count also comes from a file, not a syscall.
   */
  root?: string
  /** Probe GPUs through NVML. Default `true`. */
  gpu?: boolean
  /** NVML library to open. Default `$BENTO_NVML_LIBRARY`, else `libnvidia-ml.so.1`. */
  nvmlLibrary?: string
  /** Give up on NVML after this many milliseconds. Default `$BENTO_NVML_TIMEOUT_MS`, else 5000. */
  nvmlTimeoutMs?: number
}

/**
 * Reads the CPU and memory limits of this process and the NVIDIA GPU inventory, synchronously.
 * Throws a `TypeError` (or `RangeError`) for a bad option; probe failures are reported in the
 * result instead (`nvml.error`, `null` fields).
 * @example
 * import { createRequire } from 'node:module'
 * const { probe } = createRequire(import.meta.url)('@bento/native/addon')
 * const { cpu, gpus } = probe({ nvmlTimeoutMs: 1000 })
 * console.log(`${cpu.effective} CPUs, ${gpus.length} GPUs`)
 */
export function probe(options?: NativeProbeOptions): NativeProbeResult

/**
 * The version of the Rust crate this binary was built from.
 * @example
 * import { version } from '@bento/native/addon'
 * console.log(version) // '0.0.0'
 */
export const version: string
