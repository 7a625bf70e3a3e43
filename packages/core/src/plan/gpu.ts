// Which NVIDIA devices each worker gets. Pure and edge-safe: the probe result and the environment
// are passed in, so the same code runs in the supervisor and in tests against a fake NVML.
import type { GpuInfo, ProbeResult } from '@bento/native'
import { BentoConfigError } from '../errors.ts'
import { VARS } from '../vars.ts'

type Env = Record<string, string | undefined>
type Filter = { name: 'CUDA_VISIBLE_DEVICES' | 'NVIDIA_VISIBLE_DEVICES'; value: string }

/** One device a worker can be given: a whole GPU, or one MIG device of a GPU in MIG mode. */
export interface GpuDevice {
  /** `GPU-…` or `MIG-…`: what goes in the worker's `CUDA_VISIBLE_DEVICES`. */
  uuid: string
  /** NVML index of the GPU (for a MIG device, of the GPU it is carved from). */
  index: number
  mig: boolean
}

/** The devices workers may be given, in hand-out order, and how they were chosen. */
export interface GpuPool {
  devices: GpuDevice[]
  reasons: string[]
  warnings: string[]
  /** The visible-devices variable that restricted the pool, `null` when none did. */
  filter: Filter | null
}

/** Which pool positions each worker gets, and how many devices that takes. */
export interface GpuSlots {
  /** Per worker (0-based), positions in the pool; workers may share a position. */
  slots: number[][]
  /** Distinct devices the slots use: the pool must hold at least this many. */
  needed: number
  /** A reason line describing the split. */
  how: string
}

/**
 * The devices services of one graph already have, by UUID: how much of each is used (1 = all of
 * it; fractions add up) and by which services. `allocateGpus` reads it and records its own.
 */
export type GpuLedger = Map<string, { used: number; by: string[] }>

/** Each worker's devices and CUDA variables, plus the reasons and warnings behind them. */
export interface GpuAllocation {
  /** Per worker (0-based), the device UUIDs it gets; empty when allocation is disabled. */
  gpus: string[][]
  /** Per worker, `CUDA_VISIBLE_DEVICES` and `CUDA_DEVICE_ORDER`; `{}` when allocation is disabled. */
  env: Record<string, string>[]
  reasons: string[]
  warnings: string[]
}

/**
 * The devices workers may be given. Every probed GPU in NVML index order; a GPU in MIG mode
 * contributes its MIG devices instead (one in MIG mode without MIG devices can't run CUDA work and
 * is left out, with a warning).
 *
 * `CUDA_VISIBLE_DEVICES`, or else `NVIDIA_VISIBLE_DEVICES`, restricts the pool to the devices it
 * lists, in its order: by NVML index (PCI bus order, which is why workers get
 * `CUDA_DEVICE_ORDER=PCI_BUS_ID`), by full `GPU-…`/`MIG-…` UUID, or by a UUID prefix that names one
 * device, as CUDA accepts. `all` is every device; `none`, `void` and `''` are none. An entry that
 * names no probed device is never handed out and gives a warning; in `CUDA_VISIBLE_DEVICES`, as in
 * CUDA itself, the entries after it are dropped too (`-1` is the usual way to hide every GPU, so it
 * gives a reason, not a warning). Inside a container `NVIDIA_VISIBLE_DEVICES` holds the host's
 * indexes, which the container runtime has already applied: when its indexes don't all exist here
 * but it lists exactly as many devices as NVML sees, the pool is every device.
 * @example
 * const pool = gpuPool(probe(), { CUDA_VISIBLE_DEVICES: '1' })
 * pool.devices.map((device) => device.uuid) // ['GPU-…1']
 */
export function gpuPool(probe: ProbeResult, env: Env = {}): GpuPool {
  const reasons = [describeInventory(probe)]
  const warnings: string[] = []
  const filter = visibleDevicesVar(env)
  const everything = () => probe.gpus.flatMap((gpu) => devicesOf(gpu, warnings))
  if (filter === null) return { devices: everything(), reasons, warnings, filter }

  const shown = `${filter.name}=${JSON.stringify(filter.value)}`
  const keyword = filter.value.trim().toLowerCase()
  if (keyword === 'all') {
    reasons.push(`${shown}: every GPU`)
    return { devices: everything(), reasons, warnings, filter }
  }
  if (keyword === '' || keyword === 'none' || keyword === 'void') {
    reasons.push(`${shown} hides every GPU`)
    return { devices: [], reasons, warnings, filter }
  }
  const entries = filter.value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '')
  if (appliedByContainer(filter, entries, probe)) {
    reasons.push(
      `${shown} lists the host's indexes, which the container runtime has already applied (NVML sees ${plural(probe.gpus.length, 'GPU')}): every GPU`
    )
    return { devices: everything(), reasons, warnings, filter }
  }
  const devices = pickDevices(filter, entries, probe.gpus, reasons, warnings)
  reasons.push(`${shown} -> ${devices.map((device) => device.uuid).join(', ') || 'no devices'}`)
  return { devices, reasons, warnings, filter }
}

/**
 * How `gpu` (`resources.gpu`) is split over `workers`. With G whole GPUs and W workers: when W
 * divides G each worker gets G/W distinct devices; when G < W the workers share, worker k (0-based)
 * on device floor(k * G / W); anything else throws. A fraction f < 1 packs floor(1 / f) workers on
 * each device, worker k on device floor(k / perDevice).
 * @example
 * gpuSlots(2, 4).slots // [[0], [0], [1], [1]]
 */
export function gpuSlots(gpu: number, workers: number, service?: string): GpuSlots {
  const range = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)
  if (gpu < 1) {
    const perDevice = Math.max(1, Math.floor(1 / gpu + 1e-9))
    const needed = Math.ceil(workers / perDevice)
    return {
      slots: range(0, workers).map((k) => [Math.floor(k / perDevice)]),
      needed,
      how: `resources.gpu: ${gpu} -> ${plural(perDevice, 'worker')} per GPU, ${plural(workers, 'worker')} on ${plural(needed, 'GPU')}`,
    }
  }
  if (gpu >= workers && gpu % workers === 0) {
    const each = gpu / workers
    return {
      slots: range(0, workers).map((k) => range(k * each, each)),
      needed: gpu,
      how: `resources.gpu: ${gpu} over ${plural(workers, 'worker')} -> ${plural(each, 'GPU')} each`,
    }
  }
  if (gpu < workers) {
    return {
      slots: range(0, workers).map((k) => [Math.floor((k * gpu) / workers)]),
      needed: gpu,
      how: `resources.gpu: ${gpu} shared by ${plural(workers, 'worker')} -> worker k on GPU floor(k * ${gpu} / ${workers})`,
    }
  }
  const divisors = range(1, gpu).filter((n) => gpu % n === 0)
  throw new BentoConfigError({
    ...(service === undefined ? {} : { service }),
    field: 'resources.gpu',
    problem: `is ${gpu} GPUs, which ${plural(workers, 'worker')} cannot split evenly`,
    fix: `set workers to a divisor of ${gpu} (${divisors.join(', ')}) so each worker gets the same number of GPUs, or resources.gpu to a multiple of ${workers} (${workers}, ${workers * 2}, ...)`,
  })
}

/**
 * Assigns devices to `workers` workers for a service asking for `gpu` GPUs (see `gpuSlots` for the
 * split and `gpuPool` for the devices). Each worker gets `CUDA_VISIBLE_DEVICES` = its device UUIDs
 * and `CUDA_DEVICE_ORDER=PCI_BUS_ID`. Throws a `BentoConfigError` when the pool is too small,
 * naming what NVML found. `BENTO_DISABLE_GPU_ALLOCATION` set to anything but `''`, `0`, `false`,
 * `no` or `off` disables all of this: no CUDA variables are set, nothing is checked against the
 * pool, and the split is not checked either.
 * @example
 * const { gpus, env } = allocateGpus({ gpu: 2, workers: 2, probe: probe() })
 * env[0] // { CUDA_VISIBLE_DEVICES: 'GPU-…0', CUDA_DEVICE_ORDER: 'PCI_BUS_ID' }
 */
export function allocateGpus(options: {
  gpu: number
  workers: number
  probe: ProbeResult
  env?: Env
  service?: string
  /**
   * What other services of the graph already use: a device goes to one service only, unless
   * fractions of it go to several. Updated with what this allocation hands out.
   */
  taken?: GpuLedger
}): GpuAllocation {
  const { gpu, workers, probe, service, taken } = options
  const env = options.env ?? {}
  const disabled = env[VARS.disableGpuAllocation]
  if (disabled !== undefined && !['', '0', 'false', 'no', 'off'].includes(disabled.toLowerCase())) {
    return {
      gpus: Array.from({ length: workers }, () => []),
      env: Array.from({ length: workers }, () => ({})),
      reasons: [
        `BENTO_DISABLE_GPU_ALLOCATION=${disabled}: GPUs are not assigned; workers inherit CUDA_VISIBLE_DEVICES as it is, unchecked`,
      ],
      warnings: [],
    }
  }
  const split = gpuSlots(gpu, workers, service)
  const pool = gpuPool(probe, env)
  const free = freeDevices(pool.devices, gpu, taken)
  const { slots, needed, how } =
    gpu < 1 && taken !== undefined ? packFractions(gpu, workers, free, split) : split
  if (free.devices.length < needed) {
    const others = takenBy(taken)
    throw new BentoConfigError({
      ...(service === undefined ? {} : { service }),
      field: 'resources.gpu',
      problem: `needs ${plural(needed, 'GPU')} for ${plural(workers, 'worker')} but ${available(free.devices.length)} (${situation(probe, pool)}${others})`,
      fix: `run fewer workers, lower resources.gpu (0.5 puts two workers on each GPU)${pool.filter === null ? '' : `, list more devices in ${pool.filter.name}`}, or set BENTO_DISABLE_GPU_ALLOCATION=1 to manage CUDA_VISIBLE_DEVICES yourself`,
    })
  }
  const devices = free.devices
  const gpus = slots.map((positions) => positions.map((i) => devices[i]!.uuid))
  if (taken !== undefined) record(taken, gpus, gpu, service ?? 'a service')
  const warnings = [...pool.warnings]
  slots.forEach((positions, k) => {
    if (positions.length > 1 && positions.some((i) => devices[i]!.mig)) {
      warnings.push(
        `worker ${k + 1} gets ${positions.length} MIG devices, but CUDA uses only the first MIG device a process is given; use at most one MIG device per worker (resources.gpu equal to workers)`
      )
    }
  })
  const assigned = gpus.map((uuids, k) => `worker ${k + 1} -> ${uuids.join(', ')}`).join('; ')
  return {
    gpus,
    env: gpus.map((uuids) => ({
      CUDA_VISIBLE_DEVICES: uuids.join(','),
      CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
    })),
    reasons: [...pool.reasons, how, `GPUs: ${assigned}`],
    warnings,
  }
}

// The devices still open to a service asking for `gpu`: a whole-GPU service needs devices nobody
// uses; a fraction may join others' fractions on a device with room left.
function freeDevices(
  devices: GpuDevice[],
  gpu: number,
  taken: GpuLedger | undefined
): { devices: GpuDevice[]; room: number[] } {
  if (taken === undefined) return { devices, room: devices.map(() => 1) }
  const open = devices
    .map((device) => ({ device, room: 1 - (taken.get(device.uuid)?.used ?? 0) }))
    .filter(({ room }) => (gpu >= 1 ? room >= 1 - 1e-9 : room >= gpu - 1e-9))
  return { devices: open.map((o) => o.device), room: open.map((o) => o.room) }
}

// Fractions placed on the devices with room, in order, as many per device as fit.
function packFractions(
  gpu: number,
  workers: number,
  free: { devices: GpuDevice[]; room: number[] },
  split: GpuSlots
): GpuSlots {
  const room = [...free.room]
  const slots: number[][] = []
  let device = 0
  for (let k = 0; k < workers; k++) {
    while (device < room.length && room[device]! < gpu - 1e-9) device++
    if (device === room.length) return { ...split, needed: room.length + 1 }
    room[device]! -= gpu
    slots.push([device])
  }
  return { slots, needed: new Set(slots.flat()).size, how: split.how }
}

function record(taken: GpuLedger, gpus: string[][], gpu: number, service: string): void {
  for (const uuids of gpus) {
    for (const uuid of uuids) {
      const use = taken.get(uuid) ?? { used: 0, by: [] }
      use.used += Math.min(gpu, 1)
      if (!use.by.includes(service)) use.by.push(service)
      taken.set(uuid, use)
    }
  }
}

function takenBy(taken: GpuLedger | undefined): string {
  if (taken === undefined || taken.size === 0) return ''
  const byService = new Map<string, string[]>()
  for (const [uuid, use] of taken) {
    for (const name of use.by) byService.set(name, [...(byService.get(name) ?? []), uuid])
  }
  const list = [...byService].map(([name, uuids]) => `"${name}" has ${uuids.join(', ')}`)
  return `; other services of the graph hold the rest: ${list.join('; ')}`
}

function visibleDevicesVar(env: Env): Filter | null {
  for (const name of ['CUDA_VISIBLE_DEVICES', 'NVIDIA_VISIBLE_DEVICES'] as const) {
    const value = env[name]
    if (value !== undefined) return { name, value }
  }
  return null
}

function devicesOf(gpu: GpuInfo, warnings: string[]): GpuDevice[] {
  if (!gpu.mig.enabled) return [{ uuid: gpu.uuid, index: gpu.index, mig: false }]
  if (gpu.mig.devices.length === 0) {
    warnings.push(
      `GPU ${gpu.index} (${gpu.uuid}) is in MIG mode with no MIG devices, so CUDA can't use it; it is left out: create MIG instances on it or turn MIG mode off`
    )
    return []
  }
  return gpu.mig.devices.map((uuid) => ({ uuid, index: gpu.index, mig: true }))
}

// A container started with `--gpus device=2,3` keeps NVIDIA_VISIBLE_DEVICES=2,3 in its
// environment, yet NVML inside it numbers those two GPUs 0 and 1: read literally, the list would
// name devices that aren't there and leave the service without GPUs.
function appliedByContainer(filter: Filter, entries: string[], probe: ProbeResult): boolean {
  if (filter.name !== 'NVIDIA_VISIBLE_DEVICES') return false
  if (!entries.every((entry) => /^\d+$/.test(entry))) return false
  const indexes = new Set(probe.gpus.map((gpu) => gpu.index))
  return (
    entries.length === probe.gpus.length && entries.some((entry) => !indexes.has(Number(entry)))
  )
}

function pickDevices(
  filter: Filter,
  entries: string[],
  gpus: readonly GpuInfo[],
  reasons: string[],
  warnings: string[]
): GpuDevice[] {
  const devices: GpuDevice[] = []
  const seen = new Set<string>()
  for (const [position, entry] of entries.entries()) {
    const found = resolveEntry(entry, gpus)
    if (typeof found === 'string') {
      const rest = entries.slice(position + 1)
      const stops = filter.name === 'CUDA_VISIBLE_DEVICES'
      if (stops && /^-\d+$/.test(entry)) {
        reasons.push(`${filter.name} stops at ${entry}: CUDA sees nothing listed after it`)
        break
      }
      const dropped =
        stops && rest.length > 0
          ? `, nor is anything after it (${rest.join(', ')}), as CUDA stops at the first invalid entry`
          : ''
      warnings.push(
        `${filter.name} entry "${entry}" ${found}; it is not handed out${dropped}. Probed: ${probedList(gpus)}`
      )
      if (stops) break
      continue
    }
    const named = found.mig === undefined ? devicesOf(found.gpu, warnings) : [found.mig]
    const fresh = named.filter((device) => !seen.has(device.uuid))
    if (named.length > 0 && fresh.length === 0) {
      warnings.push(`${filter.name} names the device of "${entry}" twice; it is used once`)
    }
    for (const device of fresh) {
      seen.add(device.uuid)
      devices.push(device)
    }
  }
  return devices
}

// A found device, or why the entry names none.
function resolveEntry(
  entry: string,
  gpus: readonly GpuInfo[]
): { gpu: GpuInfo; mig?: GpuDevice } | string {
  if (/^\d+$/.test(entry)) {
    const gpu = gpus.find((candidate) => candidate.index === Number(entry))
    return gpu === undefined ? 'matches no GPU index' : { gpu }
  }
  const wanted = entry.toLowerCase()
  if (!/^(gpu|mig)-/.test(wanted)) return 'is neither an index nor a GPU-/MIG- UUID'
  const ids = gpus.flatMap((gpu) => [
    { gpu, uuid: gpu.uuid, mig: undefined },
    ...gpu.mig.devices.map((uuid) => ({ gpu, uuid, mig: { uuid, index: gpu.index, mig: true } })),
  ])
  // UUIDs have one length, so a full UUID is never the prefix of another: one test serves both.
  const found = ids.filter((id) => id.uuid.toLowerCase().startsWith(wanted))
  if (found.length > 1) return `is a prefix of ${found.length} device UUIDs, so it names none`
  const [id] = found
  if (id === undefined) return 'matches no device UUID'
  return id.mig === undefined ? { gpu: id.gpu } : { gpu: id.gpu, mig: id.mig }
}

function toolName(probe: ProbeResult): string {
  if (probe.gpuSource === 'nvidia-smi') return 'nvidia-smi'
  if (probe.gpuSource === null && probe.source === 'fallback') return 'nvidia-smi'
  return 'NVML'
}

function describeInventory(probe: ProbeResult): string {
  const tool = toolName(probe)
  if (probe.nvml.error !== null) return `${tool}: ${probe.nvml.error} -> no GPUs`
  if (probe.gpuSource === null) return 'GPUs were not probed -> no GPUs'
  const driver = probe.nvml.driverVersion === null ? '' : ` (driver ${probe.nvml.driverVersion})`
  if (probe.gpus.length === 0) return `${tool}${driver}: no GPUs`
  return `${tool}${driver}: ${plural(probe.gpus.length, 'GPU')}: ${probedList(probe.gpus)}`
}

function probedList(gpus: readonly GpuInfo[]): string {
  if (gpus.length === 0) return 'no GPUs'
  return gpus
    .map((gpu) => {
      if (!gpu.mig.enabled) return `${gpu.index} ${gpu.uuid}`
      return `${gpu.index} ${gpu.uuid} (MIG: ${gpu.mig.devices.join(', ') || 'no MIG devices'})`
    })
    .join(', ')
}

// What the error message says about the hardware, so "0 available" comes with its cause.
function situation(probe: ProbeResult, pool: GpuPool): string {
  const tool = toolName(probe)
  let found: string
  if (probe.nvml.error !== null) found = `${tool}: ${probe.nvml.error}`
  else if (probe.gpuSource === null) found = 'GPUs were not probed'
  else found = `${tool} found ${plural(probe.gpus.length, 'GPU')}`
  if (pool.filter === null) return found
  return `${found}; ${pool.filter.name}=${JSON.stringify(pool.filter.value)} leaves ${pool.devices.length}`
}

function available(count: number): string {
  if (count === 0) return 'none is available'
  return count === 1 ? '1 is available' : `${count} are available`
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}
