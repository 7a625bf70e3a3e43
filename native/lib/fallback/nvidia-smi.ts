import { spawnSync } from 'node:child_process'
import type { GpuInfo, NvmlInfo } from '../types.ts'

/** What the GPU part of a probe returns. */
export interface GpuProbe {
  gpus: GpuInfo[]
  nvml: NvmlInfo
}

/** One row of `--query-gpu`, before MIG devices are attached. */
export interface QueriedGpu extends Omit<GpuInfo, 'mig'> {
  migEnabled: boolean
  driverVersion: string
}

const QUERY_FIELDS =
  'index,uuid,name,memory.total,memory.free,pci.bus_id,mig.mode.current,driver_version'
const MIB = 1024 * 1024

/**
 * Lists NVIDIA GPUs by running `nvidia-smi`, for when the addon (and with it NVML) is unavailable.
 *
 * Like the addon, any failure gives `gpus: []` and an `nvml.error` saying why; what was learnt
 * before the failure (the driver version) is kept. `timeoutMs` bounds all the runs together.
 * @example
 * const { gpus, nvml } = probeNvidiaSmi('nvidia-smi', 5000)
 */
export function probeNvidiaSmi(nvidiaSmi: string, timeoutMs: number): GpuProbe {
  const deadline = Date.now() + timeoutMs
  const run = (args: string[]) => runNvidiaSmi(nvidiaSmi, args, deadline, timeoutMs)
  const nvml: NvmlInfo = {
    loaded: false,
    library: null,
    driverVersion: null,
    cudaDriverVersion: null,
    error: null,
  }
  try {
    const query = run([`--query-gpu=${QUERY_FIELDS}`, '--format=csv,noheader,nounits'])
    const rows = query === null ? [] : parseQueryGpu(query)
    nvml.driverVersion = rows[0]?.driverVersion ?? null
    const migDevices = rows.some((row) => row.migEnabled) ? parseListGpus(run(['-L']) ?? '') : {}
    const version = parseVersion(run(['--version']) ?? '')
    nvml.driverVersion ??= version.driverVersion
    nvml.cudaDriverVersion = version.cudaDriverVersion
    const gpus = rows.map((row) => ({
      index: row.index,
      uuid: row.uuid,
      name: row.name,
      memoryTotal: row.memoryTotal,
      memoryFree: row.memoryFree,
      pciBusId: row.pciBusId,
      mig: {
        enabled: row.migEnabled,
        devices: row.migEnabled ? (migDevices[row.uuid] ?? []) : [],
      },
    }))
    return { gpus, nvml }
  } catch (error) {
    nvml.error = (error as Error).message
    return { gpus: [], nvml }
  }
}

/**
 * Parses `nvidia-smi --query-gpu=<the probe's fields> --format=csv,noheader,nounits`.
 *
 * nvidia-smi separates fields with ", ". Only the name could hold that, so the fields are taken
 * from both ends of the line and the name is what lies between.
 * @example
 * parseQueryGpu('0, GPU-1, NVIDIA H100, 81559, 80535, 00000000:19:00.0, Disabled, 560.35.03\n')
 */
export function parseQueryGpu(text: string): QueriedGpu[] {
  return lines(text).map((line) => {
    const fields = line.trim().split(', ')
    if (fields.length < 8) throw new Error(`unexpected nvidia-smi --query-gpu line: "${line}"`)
    const [index, uuid] = fields
    const [total, free, pciBusId, mig, driverVersion] = fields.slice(-5)
    return {
      index: wholeNumber(index!, line),
      uuid: uuid!,
      name: fields.slice(2, -5).join(', '),
      memoryTotal: wholeNumber(total!, line) * MIB,
      memoryFree: wholeNumber(free!, line) * MIB,
      pciBusId: pciBusId!,
      migEnabled: mig === 'Enabled',
      driverVersion: driverVersion!,
    }
  })
}

/**
 * Parses `nvidia-smi -L` into the MIG device UUIDs of each GPU, keyed by the GPU's UUID.
 * @example
 * parseListGpus('GPU 0: H100 (UUID: GPU-a)\n  MIG 3g.40gb Device 0: (UUID: MIG-b)\n')
 * // { 'GPU-a': ['MIG-b'] }
 */
export function parseListGpus(text: string): Record<string, string[]> {
  const devices: Record<string, string[]> = {}
  let current: string[] | undefined
  for (const line of lines(text)) {
    const uuid = /\(UUID: ([^)]+)\)\s*$/.exec(line)?.[1]
    if (uuid === undefined) continue
    if (/^GPU \d+:/.test(line)) {
      current = devices[uuid] = []
    } else if (/^\s+MIG /.test(line) && current) {
      current.push(uuid)
    }
  }
  return devices
}

/**
 * Parses `nvidia-smi --version` for the driver and the CUDA version it supports.
 * @example
 * parseVersion('DRIVER version      : 560.35.03\nCUDA Version        : 12.6\n')
 * // { driverVersion: '560.35.03', cudaDriverVersion: '12.6' }
 */
export function parseVersion(text: string): {
  driverVersion: string | null
  cudaDriverVersion: string | null
} {
  return {
    driverVersion: /^DRIVER version\s*:\s*(\S+)/im.exec(text)?.[1] ?? null,
    cudaDriverVersion: /^CUDA Version\s*:\s*(\S+)/im.exec(text)?.[1] ?? null,
  }
}

// Returns stdout, or null when nvidia-smi says there are no devices (not an error: NVML reports
// zero devices the same way). Throws an Error whose message is the `nvml.error` to report.
function runNvidiaSmi(
  nvidiaSmi: string,
  args: string[],
  deadline: number,
  timeoutMs: number
): string | null {
  const command = `${nvidiaSmi} ${args[0]!.split('=')[0]}`
  const remaining = deadline - Date.now()
  if (remaining <= 0) throw new Error(`${command} timed out after ${timeoutMs} ms`)
  const result = spawnSync(nvidiaSmi, args, {
    encoding: 'utf8',
    timeout: remaining,
    killSignal: 'SIGKILL',
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const code = (result.error as NodeJS.ErrnoException | undefined)?.code
  if (code === 'ETIMEDOUT') throw new Error(`${command} timed out after ${timeoutMs} ms`)
  if (code === 'ENOENT') throw new Error(`nvidia-smi not found: ${nvidiaSmi}`)
  if (result.error) throw new Error(`cannot run ${nvidiaSmi}: ${result.error.message}`)
  const output = `${result.stdout ?? ''}\n${result.stderr ?? ''}`
  const firstLine = lines(output)[0]?.trim() ?? ''
  if (firstLine === 'No devices were found') return null
  if (result.signal) throw new Error(`${command} was killed by ${result.signal}`)
  if (typeof result.status !== 'number') throw new Error(`cannot run ${nvidiaSmi}`)
  if (result.status !== 0) {
    throw new Error(`${command} exited with code ${result.status}: ${firstLine || '(no output)'}`)
  }
  return result.stdout
}

function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '')
}

function wholeNumber(text: string, line: string): number {
  if (!/^\d+$/.test(text)) throw new Error(`unexpected nvidia-smi --query-gpu line: "${line}"`)
  return Number(text)
}
