// Probe results for the strategy tests: real ones read by @bento/native from its cgroup fixture
// trees, and hand-made ones for rules whose inputs no fixture has (many CPUs, GPUs without NVML).
import { fileURLToPath } from 'node:url'
import { type GpuInfo, type ProbeResult, probe } from '@bento/native'

const fixtures = fileURLToPath(new URL('../../../native/test/fixtures/', import.meta.url))

/** What the real probe reads from `native/test/fixtures/<name>`, GPUs not probed. */
export function probeFixture(name: string): ProbeResult {
  return probe({ root: `${fixtures}${name}`, gpu: false })
}

/** A GPU as NVML would report it; `mig` lists MIG device UUIDs and turns MIG mode on. */
export function gpu(index: number, mig?: string[]): GpuInfo {
  return {
    index,
    uuid: `GPU-0000000${index}-test`,
    name: 'Test GPU',
    memoryTotal: 80 * 2 ** 30,
    memoryFree: 80 * 2 ** 30,
    pciBusId: `00000000:${String(index).padStart(2, '0')}:00.0`,
    mig: { enabled: mig !== undefined, devices: mig ?? [] },
  }
}

/** A hand-made probe: no cgroup, `cpus` CPUs, `memory` bytes of host memory, NVML with `gpus`. */
export function fakeProbe(
  options: { cpus?: number; memory?: number | null; gpus?: GpuInfo[] } = {}
): ProbeResult {
  const cpus = options.cpus ?? 4
  const cgroup = { version: null, path: null, dir: null, hybrid: false }
  return {
    cpu: {
      host: cpus,
      affinity: cpus,
      quota: null,
      quotaSource: null,
      cpuset: null,
      cpusetSource: null,
      effective: cpus,
      cgroup,
    },
    memory: {
      limit: null,
      limitSource: null,
      usage: null,
      host: options.memory === undefined ? 64 * 2 ** 30 : options.memory,
      cgroup,
    },
    gpus: options.gpus ?? [],
    nvml: {
      loaded: true,
      library: 'libnvidia-ml.so.1',
      driverVersion: '560.35.03',
      cudaDriverVersion: '12.6',
      error: null,
    },
    source: 'native',
    fallbackReason: null,
    gpuSource: 'nvml',
  }
}
