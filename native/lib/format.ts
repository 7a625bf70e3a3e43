import type { CgroupInfo, GpuInfo, NvmlInfo, ProbeResult } from './types.ts'

const MIB = 1024 ** 2
const GIB = 1024 ** 3

/**
 * Summarises a probe result in a few lines for logs and `--verbose` output.
 * @example
 * console.log(formatProbe(probe()))
 * // cpu     1.5 effective (host 8, affinity 8, quota 1.5 from /sys/fs/cgroup/cpu.max, no cpuset)
 * //         cgroup v2 / at /sys/fs/cgroup
 * // ...
 */
export function formatProbe(result: ProbeResult): string {
  const { cpu, memory } = result
  const quota = cpu.quota === null ? 'no quota' : `quota ${cpu.quota} from ${cpu.quotaSource}`
  const cpuset = cpu.cpuset === null ? 'no cpuset' : `cpuset ${cpu.cpuset} from ${cpu.cpusetSource}`
  const limit =
    memory.limit === null ? 'no limit' : `limit ${bytes(memory.limit)} from ${memory.limitSource}`
  const rows: [label: string, text: string][] = [
    [
      'cpu',
      `${cpu.effective} effective (host ${cpu.host}, affinity ${cpu.affinity}, ${quota}, ${cpuset})`,
    ],
    ['', cgroup(cpu.cgroup)],
    [
      'memory',
      `${limit}, usage ${optionalBytes(memory.usage)}, host ${optionalBytes(memory.host)}`,
    ],
    ['', cgroup(memory.cgroup)],
    ...gpus(result),
    ['nvml', nvml(result.nvml)],
    ['source', source(result)],
  ]
  // Reasons can span lines (Node's "Require stack"); indent them under their label.
  return rows
    .map(([label, text]) => `${label.padEnd(8)}${text.replaceAll('\n', `\n${' '.repeat(8)}`)}`)
    .join('\n')
}

function cgroup({ version, path, dir, hybrid }: CgroupInfo): string {
  if (version === null) return 'no cgroup'
  return `cgroup v${version} ${path} at ${dir}${hybrid ? ' (hybrid v1/v2)' : ''}`
}

function gpus({ gpus, gpuSource }: ProbeResult): [string, string][] {
  if (gpus.length === 0) return [['gpus', gpuSource === null ? 'not known' : 'none']]
  return gpus.map((gpu) => [`gpu ${gpu.index}`, describeGpu(gpu)])
}

function describeGpu(gpu: GpuInfo): string {
  const mig = gpu.mig.enabled ? `MIG on (${gpu.mig.devices.join(', ') || 'no devices'})` : 'MIG off'
  const memory = `${bytes(gpu.memoryTotal)} (${bytes(gpu.memoryFree)} free)`
  return `${gpu.name} ${gpu.uuid} ${memory}, ${gpu.pciBusId}, ${mig}`
}

function nvml(info: NvmlInfo): string {
  const state = info.loaded ? `loaded ${info.library}` : 'not loaded'
  const versions = `driver ${info.driverVersion ?? 'unknown'}, CUDA ${info.cudaDriverVersion ?? 'unknown'}`
  return `${state}, ${versions}${info.error === null ? '' : `; error: ${info.error}`}`
}

function source({ source, fallbackReason, gpuSource }: ProbeResult): string {
  const from = `${source}${gpuSource === null ? '' : `, GPUs from ${gpuSource}`}`
  return fallbackReason === null ? from : `${from} (${fallbackReason})`
}

function optionalBytes(value: number | null): string {
  return value === null ? 'unknown' : bytes(value)
}

function bytes(value: number): string {
  return value >= GIB ? `${round(value / GIB)} GiB` : `${round(value / MIB)} MiB`
}

function round(value: number): number {
  return Math.round(value * 10) / 10
}
