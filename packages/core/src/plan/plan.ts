// The worker-count strategy: how many workers a service runs, and each one's GPUs, threads and
// environment. BentoML's rules ("Parallelize requests handling" and its DefaultStrategy), plus a
// memory cap BentoML lacks. Pure and edge-safe: the probe result and the environment are passed
// in, so the supervisor, `bento plan`-style tooling and tests all get the same answer.
import type { CpuInfo, ProbeResult } from '@bento/native'
import { BentoConfigError } from '../errors.ts'
import type { Service, ServiceSettings } from '../service/types.ts'
import { allocateGpus, type GpuAllocation, type GpuLedger } from './gpu.ts'

/** What `plan()` reads of a service: its name and settings (a `Service`, or its description). */
export type Plannable = Pick<Service, 'name' | 'settings'>

import { formatBytes } from '../units.ts'
import { VARS } from '../vars.ts'
import { threadEnv } from './threads.ts'

type Env = Record<string, string | undefined>

/** What one worker is started with. */
export interface WorkerAssignment {
  /** 1-based, as BentoML's `worker_index`. */
  workerIndex: number
  /** The device UUIDs in its `CUDA_VISIBLE_DEVICES`; empty for CPU services. */
  gpus: string[]
  /** The size its thread pools are given (its `OMP_NUM_THREADS`). */
  threads: number
  /** Variables to add to the environment the worker inherits. */
  env: Record<string, string>
}

/** How many workers to run and with what, and why: `reasons` explain each decision. */
export interface WorkerPlan {
  workers: number
  /** One line per decision, for `bento serve` to print at startup. */
  reasons: string[]
  /** Things that work but are probably not what was meant. */
  warnings: string[]
  assignments: WorkerAssignment[]
}

/** What `plan()` needs besides the service. */
export interface PlanOptions {
  /** The machine as this process sees it, from `probe()` of `@bento/native`. */
  probe: ProbeResult
  /**
   * The environment the workers will inherit (pass `environment()` for the real one; default
   * `{}`). Read: `BENTO_WORKERS`, `CUDA_VISIBLE_DEVICES`, `NVIDIA_VISIBLE_DEVICES`,
   * `BENTO_DISABLE_GPU_ALLOCATION` and the thread variables.
   */
  env?: Env
  /**
   * A worker count set over the strategy and `BENTO_WORKERS`, with where it came from in the
   * caller's words (`'--workers'`, `'bento dev'`), for the reasons and errors.
   */
  workers?: { count: number; source: string }
  /**
   * The GPUs other services of the same graph were given (one ledger for the graph): this
   * service gets others, or shares one only where both ask for fractions. Updated in place.
   */
  taken?: GpuLedger
}

interface Notes {
  reasons: string[]
  warnings: string[]
  /** Adds the line explaining the effective CPU count, once, before the first decision using it. */
  cpu(): number
}

/**
 * Decides the worker count and each worker's GPUs, threads and environment.
 *
 * The count, first rule that applies: `options.workers` (a flag, say); `$BENTO_WORKERS`; the
 * service's `workers: N`; `workers: "cpu_count"` = max(1, ceil(effective CPUs)); a GPU service
 * (`resources.gpu`) = ceil(GPUs x workersPerResource), a fraction counting as one GPU; a CPU
 * service (`resources.cpu`) = workersPerResource when `multiThreaded`, else ceil(cpu) x
 * workersPerResource; otherwise 1. Products are rounded up, so the count is a whole number >= 1.
 *
 * With `workerMemory` the count is capped at what fits in the cgroup memory limit (else the
 * host's memory), never below 1, with a warning. An `options.workers` or `$BENTO_WORKERS` override
 * is not capped: the operator asked for that number, so it only gets the warning.
 *
 * Threads: `multiThreaded` workers get every CPU the service has, ceil(min(resources.cpu,
 * effective CPUs)); other workers of a GPU service share the CPUs, floor(effective / workers);
 * other CPU workers get 1, as BentoML's one-worker-per-core strategy intends. `OMP_NUM_THREADS`
 * and its peers (`THREAD_ENVS`) carry it, except those the user already set in the environment or
 * the service's `envs`; a user's `OMP_NUM_THREADS` is then the reported thread count.
 *
 * Each worker's `env`: the service's `envs`, the thread variables, `BENTO_WORKER_INDEX`,
 * `BENTO_WORKER_COUNT`, `BENTO_GPUS`, and for GPU services `CUDA_VISIBLE_DEVICES` and
 * `CUDA_DEVICE_ORDER` (see `allocateGpus`; the GPU variables are read from the environment with
 * the service's `envs` on top, as the workers would see them). CPU services leave
 * `CUDA_VISIBLE_DEVICES` as inherited, as BentoML does.
 *
 * Throws a `BentoConfigError` for a bad `options.workers` or `$BENTO_WORKERS`, a GPU split that doesn't
 * divide, or more GPUs than the machine has.
 * @example
 * const { workers, reasons, assignments } = plan(service, { probe: probe(), env: environment() })
 * for (const line of reasons) console.log(line)
 */
export function plan(service: Plannable, options: PlanOptions): WorkerPlan {
  const { probe } = options
  const env = options.env ?? {}
  const { settings } = service
  let cpuShown = false
  const notes: Notes = {
    reasons: [],
    warnings: [],
    cpu() {
      if (!cpuShown) notes.reasons.push(describeCpu(probe.cpu))
      cpuShown = true
      return probe.cpu.effective
    },
  }
  const counted = countWorkers(service, options, notes)
  checkCpuRequest(settings, probe.cpu, notes)
  const workers = capByMemory(counted.workers, counted.override, settings, probe, notes)
  const gpu = planGpus(service, workers, options, notes)
  const threads = threadsPerWorker(settings, workers, env, notes)
  const threadVars = threadEnv(threads, { ...env, ...settings.envs })
  const assignments = Array.from({ length: workers }, (_, k): WorkerAssignment => {
    const gpus = gpu?.gpus[k] ?? []
    return {
      workerIndex: k + 1,
      gpus,
      threads,
      env: {
        ...settings.envs,
        ...threadVars,
        [VARS.workerIndex]: String(k + 1),
        [VARS.workerCount]: String(workers),
        [VARS.gpus]: gpus.join(','),
        ...gpu?.env[k],
      },
    }
  })
  return { workers, reasons: notes.reasons, warnings: notes.warnings, assignments }
}

function countWorkers(
  service: Plannable,
  options: PlanOptions,
  notes: Notes
): { workers: number; override: string | null } {
  const { settings, name } = service
  const said =
    settings.workers === undefined ? '' : `; the service says workers: ${show(settings.workers)}`
  const fromEnv = options.env?.[VARS.workers]?.trim()
  if (options.workers !== undefined) {
    const { count: n, source } = options.workers
    if (!(Number.isInteger(n) && n > 0)) {
      throw new BentoConfigError({
        service: name,
        field: source,
        problem: `must be a positive integer, got ${show(n)}`,
        fix: "give 1 or more, or leave it out to use the service's workers setting",
      })
    }
    const over = fromEnv ? `, over BENTO_WORKERS=${fromEnv}` : ''
    notes.reasons.push(`workers: ${n} (${source}${over}${said}) -> ${count(n)}`)
    return { workers: n, override: source }
  }
  if (fromEnv) {
    if (!/^\d+$/.test(fromEnv) || Number(fromEnv) < 1) {
      throw new BentoConfigError({
        service: name,
        field: VARS.workers,
        problem: `must be a positive integer, got ${JSON.stringify(fromEnv)}`,
        fix: "set BENTO_WORKERS to a whole number of at least 1, e.g. BENTO_WORKERS=2, or unset it to use the service's workers setting",
      })
    }
    const n = Number(fromEnv)
    notes.reasons.push(`workers: BENTO_WORKERS=${fromEnv} (environment${said}) -> ${count(n)}`)
    return { workers: n, override: VARS.workers }
  }
  return { workers: fromService(settings, notes), override: null }
}

// BentoML's rules, in its order: explicit, cpu_count, GPU, CPU, default.
function fromService(settings: ServiceSettings, notes: Notes): number {
  const { workers, workersPerResource: per, multiThreaded } = settings
  const { gpu, cpu } = settings.resources
  if (typeof workers === 'number') {
    notes.reasons.push(`workers: ${workers} (service) -> ${count(workers)}`)
    return workers
  }
  if (workers === 'cpu_count') {
    const effective = notes.cpu()
    const n = Math.max(1, ceil(effective))
    notes.reasons.push(`workers: "cpu_count" -> ceil(${num(effective)}) = ${count(n)}`)
    return n
  }
  if (gpu !== undefined) {
    const gpus = Math.max(gpu, 1)
    const n = Math.max(1, ceil(gpus * per))
    const share = gpu < 1 ? ' (a fraction shares one GPU)' : ''
    notes.reasons.push(
      `resources.gpu: ${gpu}${share} -> ceil(${gpus} x workersPerResource ${per}) = ${count(n)}`
    )
    return n
  }
  if (cpu !== undefined) {
    notes.cpu()
    if (multiThreaded) {
      const n = Math.max(1, ceil(per))
      notes.reasons.push(
        `resources.cpu: ${cpu}, multiThreaded -> workersPerResource ${per} = ${count(n)}, each using every thread`
      )
      return n
    }
    const n = Math.max(1, ceil(ceil(cpu) * per))
    notes.reasons.push(
      `resources.cpu: ${cpu} -> ceil(${cpu}) x workersPerResource ${per} = ${count(n)}`
    )
    return n
  }
  notes.reasons.push('workers: not set, no resources -> 1 worker (the default)')
  return 1
}

function checkCpuRequest(settings: ServiceSettings, cpu: CpuInfo, notes: Notes): void {
  const asked = settings.resources.cpu
  if (asked === undefined || asked <= notes.cpu()) return
  notes.warnings.push(
    `resources.cpu is ${num(asked)} but this process may use only ${cpus(cpu.effective)} (${bindingLimit(cpu)}); the workers will share them`
  )
}

// The limit that set the effective count, for messages that must say where a number came from.
function bindingLimit(cpu: CpuInfo): string {
  if (cpu.quota !== null && cpu.quota === cpu.effective) return `CPU quota in ${cpu.quotaSource}`
  if (cpu.cpuset !== null && cpu.cpuset === cpu.effective) return `cpuset in ${cpu.cpusetSource}`
  if (cpu.affinity === cpu.effective && cpu.affinity < cpu.host) return 'CPU affinity'
  return `the host's ${cpus(cpu.host)}`
}

function capByMemory(
  workers: number,
  override: string | null,
  settings: ServiceSettings,
  probe: ProbeResult,
  notes: Notes
): number {
  const each = settings.workerMemory
  if (each === undefined) return workers
  const { limit, limitSource, host } = probe.memory
  const budget = limit ?? host
  if (budget === null) {
    notes.warnings.push(
      'workerMemory is set but neither a memory limit nor the host memory is known, so the worker count is not checked against it'
    )
    return workers
  }
  const where =
    limit === null
      ? `host memory ${formatBytes(budget)} (no cgroup memory limit)`
      : `memory limit ${formatBytes(limit)} (${limitSource})`
  const fits = Math.floor(budget / each)
  const holds = `holds ${count(fits)} of ${formatBytes(each)}`
  if (workers <= fits) {
    notes.reasons.push(`workerMemory: ${where} ${holds} -> ${count(workers)} fit`)
    return workers
  }
  if (override !== null) {
    notes.warnings.push(`${where} ${holds}; running ${workers} anyway, as ${override} asks`)
    return workers
  }
  if (fits === 0) {
    notes.warnings.push(
      `${where} holds no worker of ${formatBytes(each)}; running 1 anyway: raise the limit or lower workerMemory`
    )
    return 1
  }
  notes.warnings.push(`${where} ${holds}; running ${fits} instead of ${workers}`)
  notes.reasons.push(`workerMemory: capped at ${count(fits)}`)
  return fits
}

function planGpus(
  service: Plannable,
  workers: number,
  options: PlanOptions,
  notes: Notes
): GpuAllocation | undefined {
  const { gpu } = service.settings.resources
  if (gpu === undefined) {
    notes.reasons.push(
      'GPUs: none assigned (no resources.gpu); CUDA_VISIBLE_DEVICES is inherited unchanged, as in BentoML'
    )
    return undefined
  }
  const allocation = allocateGpus({
    gpu,
    workers,
    probe: options.probe,
    env: { ...options.env, ...service.settings.envs },
    service: service.name,
    ...(options.taken !== undefined && { taken: options.taken }),
  })
  notes.reasons.push(...allocation.reasons)
  notes.warnings.push(...allocation.warnings)
  return allocation
}

function threadsPerWorker(
  settings: ServiceSettings,
  workers: number,
  env: Env,
  notes: Notes
): number {
  const user = settings.envs['OMP_NUM_THREADS'] ?? env['OMP_NUM_THREADS']
  if (user !== undefined && /^\d+$/.test(user.trim()) && Number(user) > 0) {
    notes.reasons.push(`threads: OMP_NUM_THREADS=${user.trim()} is set by the user -> kept`)
    return Number(user)
  }
  if (settings.multiThreaded) {
    const effective = notes.cpu()
    const budget = Math.min(settings.resources.cpu ?? effective, effective)
    const n = Math.max(1, ceil(budget))
    notes.reasons.push(
      `threads: multiThreaded -> every CPU, ceil(${num(budget)}) = ${n} per worker`
    )
    if (workers > 1 && workers * n > ceil(effective)) {
      notes.warnings.push(
        `${count(workers)} x ${n} threads oversubscribe ${cpus(effective)}; multiThreaded models usually run best as 1 worker`
      )
    }
    return n
  }
  if (settings.resources.gpu !== undefined) {
    const effective = notes.cpu()
    const n = Math.max(1, Math.floor(effective / workers))
    notes.reasons.push(
      `threads: GPU workers share the CPUs, floor(${num(effective)} / ${workers}) = ${n} per worker`
    )
    return n
  }
  notes.reasons.push(
    'threads: 1 per worker (one worker per CPU; set multiThreaded: true when the model uses every core itself)'
  )
  return 1
}

function describeCpu(cpu: CpuInfo): string {
  const where =
    cpu.cgroup.version === null ? 'no cgroup' : `cgroup ${cpu.cgroup.path} (v${cpu.cgroup.version})`
  const limits: string[] = []
  if (cpu.quota !== null) limits.push(`quota ${cpus(cpu.quota)} from ${cpu.quotaSource}`)
  if (cpu.cpuset !== null && cpu.cpuset < cpu.host) {
    limits.push(`cpuset ${cpus(cpu.cpuset)} from ${cpu.cpusetSource}`)
  }
  if (cpu.affinity < cpu.host) limits.push(`affinity ${cpus(cpu.affinity)}`)
  if (limits.length === 0) limits.push(`no CPU limit, host ${cpus(cpu.host)}`)
  return `${where}: ${limits.join(', ')} -> effective ${cpus(cpu.effective)}`
}

// Rounds away float noise first: 0.1 * 30 is 3.0000000000000004, which must not become 4.
function ceil(value: number): number {
  return Math.ceil(Number(value.toPrecision(12)))
}

function num(value: number): string {
  return String(Number(value.toFixed(2)))
}

function cpus(value: number): string {
  return value === 1 ? '1 CPU' : `${num(value)} CPUs`
}

function count(workers: number): string {
  return workers === 1 ? '1 worker' : `${workers} workers`
}

function show(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value) : String(value)
}
