import { resolveOptions } from '../options.ts'
import type { NativeProbeResult, ProbeOptions } from '../types.ts'
import { locateCgroup, parseProcCgroup } from './cgroup.ts'
import { probeCpu } from './cpu.ts'
import { readerUnder } from './files.ts'
import { probeMemory } from './memory.ts'
import { parseMountinfo } from './mountinfo.ts'
import { probeNvidiaSmi } from './nvidia-smi.ts'

/**
 * Probes the machine in pure TypeScript, reading the same files as the addon and running
 * `nvidia-smi` for GPUs; `implementation` is ignored.
 * @example
 * const { cpu, memory } = probeFallback({ gpu: false })
 * console.log(cpu.effective, memory.limit)
 */
export function probeFallback(options?: ProbeOptions): NativeProbeResult {
  const { root, gpu, nvidiaSmi, nvmlTimeoutMs } = resolveOptions(options)
  const read = readerUnder(root)
  const entries = parseProcCgroup(read('/proc/self/cgroup') ?? '')
  const mounts = parseMountinfo(read('/proc/self/mountinfo') ?? '')
  const locate = (controller: string) => locateCgroup(controller, entries, mounts)
  const gpus = gpu
    ? probeNvidiaSmi(nvidiaSmi, nvmlTimeoutMs)
    : {
        gpus: [],
        nvml: {
          loaded: false,
          library: null,
          driverVersion: null,
          cudaDriverVersion: null,
          error: null,
        },
      }
  return {
    cpu: probeCpu(read, locate('cpu'), locate('cpuset')),
    memory: probeMemory(read, locate('memory')),
    ...gpus,
  }
}
