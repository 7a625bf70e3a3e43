// One pool of workers for an entry: the worker-count strategy applied to what the workers serve.
// A service entry is planned as that service. An app entry that mounts several services runs
// them all in every worker, so its pool takes, from its services: the largest worker count
// (each planned with the strategy), the one GPU request (an app may mount at most one GPU
// service: compose services with `depends` to give each its own GPUs), the most threads, the
// union of their environment variables, the longest drain timeout, the lowest maxMemory, and
// the first service's restart policy. An app that mounts none runs one worker.
import { BentoConfigError } from '../errors.ts'
import { type PlanOptions, plan, type WorkerPlan } from '../plan/plan.ts'
import { DEFAULTS } from '../service/defaults.ts'
import type { ResolvedRestartPolicy } from '../service/types.ts'
import { VARS } from '../vars.ts'
import type { EntryDescription } from './describe.ts'
import type { GraphLayout } from './layout.ts'

/** The supervisor's settings for a pool, from its services. */
export interface PoolSettings {
  drainTimeout: number
  restart: ResolvedRestartPolicy
  maxMemory: number | undefined
}

/** A planned pool: the workers, why, and how to supervise them. */
export interface PoolPlan extends WorkerPlan {
  settings: PoolSettings
}

/**
 * Plans the workers of an entry (see the module comment for an app's rules).
 * @example
 * const pool = planPool(description, { probe: probe(), env: environment() })
 */
export function planPool(
  description: Pick<EntryDescription, 'services'>,
  options: PlanOptions
): PoolPlan {
  const { services } = description
  if (services.length === 0) {
    const count = options.workers?.count ?? 1
    const why = options.workers
      ? `workers: ${count} (${options.workers.source})`
      : 'workers: the app mounts no bento service -> 1 worker'
    return {
      workers: count,
      reasons: [why],
      warnings: [],
      assignments: Array.from({ length: count }, (_, i) => ({
        workerIndex: i + 1,
        gpus: [],
        threads: 1,
        env: { [VARS.workerIndex]: String(i + 1), [VARS.workerCount]: String(count) },
      })),
      settings: {
        drainTimeout: DEFAULTS.drainTimeout,
        restart: structuredClone(DEFAULTS.restart) as ResolvedRestartPolicy,
        maxMemory: undefined,
      },
    }
  }
  const gpuServices = services.filter((s) => s.settings.resources.gpu !== undefined)
  if (gpuServices.length > 1) {
    throw new BentoConfigError({
      field: 'resources.gpu',
      problem: `is set by ${gpuServices.map((s) => `"${s.name}"`).join(' and ')}, which one app mounts, so their workers would share one set of GPUs`,
      fix: 'mount at most one GPU service per app, or make the app a service that depends on the GPU services, so that each gets its own workers and GPUs',
    })
  }
  // Sized first on a copy of the graph's GPU ledger: only the final plan hands GPUs out.
  const trial = {
    ...options,
    ...(options.taken && {
      taken: new Map([...options.taken].map(([k, v]) => [k, { ...v, by: [...v.by] }])),
    }),
  }
  const plans = services.map((service) => ({
    service,
    plan: plan(service, services.length === 1 ? options : trial),
  }))
  if (plans.length === 1) {
    const [{ service, plan: only }] = plans as [(typeof plans)[0]]
    return { ...only, settings: poolSettings([service.settings]) }
  }
  const workers = Math.max(...plans.map((p) => p.plan.workers))
  // Planned again at the pool's size, so that GPU splits and thread counts fit that size.
  const sized = services.map((service) => ({
    service,
    plan: plan(service, {
      ...options,
      workers: { count: workers, source: 'the largest of the services mounted together' },
    }),
  }))
  const gpuPlan = sized.find((p) => p.service.settings.resources.gpu !== undefined)?.plan
  const threadPlan = sized.reduce((most, p) =>
    p.plan.assignments[0]!.threads > most.plan.assignments[0]!.threads ? p : most
  ).plan
  const assignments = Array.from({ length: workers }, (_, k) => {
    const env: Record<string, string> = {}
    for (const { service, plan: p } of sized) {
      for (const [key, value] of Object.entries(p.assignments[k]!.env)) {
        if (env[key] !== undefined && env[key] !== value && !isPerWorker(key)) {
          throw new BentoConfigError({
            service: service.name,
            field: `envs.${key}`,
            problem: `is "${value}", but another service this app mounts sets it to "${env[key]}"`,
            fix: 'give the services that share workers the same value, or compose them with depends so that each has its own workers',
          })
        }
        env[key] = value
      }
    }
    const threaded = threadPlan.assignments[k]!
    const gpu = gpuPlan?.assignments[k]
    const gpuEnv = Object.fromEntries(
      Object.entries(gpu?.env ?? {}).filter(([key]) => key.startsWith('CUDA_') || key === VARS.gpus)
    )
    return {
      workerIndex: k + 1,
      gpus: gpu?.gpus ?? [],
      threads: threaded.threads,
      env: { ...env, ...threaded.env, ...gpuEnv },
    }
  })
  return {
    workers,
    reasons: plans
      .flatMap(({ service, plan: p }) => p.reasons.map((r) => `${service.name}: ${r}`))
      .concat(
        `workers: the largest of ${plans.map((p) => `${p.service.name} ${p.plan.workers}`).join(', ')} -> ${workers}`
      ),
    warnings: plans.flatMap(({ service, plan: p }) =>
      p.warnings.map((w) => `${service.name}: ${w}`)
    ),
    assignments,
    settings: poolSettings(services.map((s) => s.settings)),
  }
}

// Variables that differ per service by design (threads, GPUs); the GPU service's or the most
// threads' value wins instead of conflicting.
function isPerWorker(key: string): boolean {
  return /^(BENTO_|CUDA_|OMP_|MKL_|OPENBLAS_|NUMEXPR_|VECLIB_|TF_NUM_|RAYON_)/.test(key)
}

/** The pools of a graph: the entry's, and one per dependency served here, by service name. */
export interface GraphPlan {
  entry: PoolPlan
  local: Map<string, PoolPlan>
}

/**
 * Plans every pool of `layout`, dependencies first, with one GPU ledger for them all: no device
 * goes to two services unless both ask for fractions of it, and a graph that asks for more GPUs
 * than there are fails here, naming the services that hold them.
 * @example
 * const { entry, local } = planGraph(layoutGraph(description), { probe: probe(), env: environment() })
 */
export function planGraph(layout: GraphLayout, options: PlanOptions): GraphPlan {
  const taken = options.taken ?? new Map()
  const local = new Map<string, PoolPlan>()
  for (const service of layout.local) {
    local.set(service.name, planPool({ services: [service] }, { ...options, taken }))
  }
  const entry = planPool(layout.entry, { ...options, taken })
  return { entry, local }
}

function poolSettings(settings: EntryDescription['services'][number]['settings'][]): PoolSettings {
  const limits = settings.map((s) => s.maxMemory).filter((m): m is number => m !== undefined)
  return {
    drainTimeout: Math.max(...settings.map((s) => s.drainTimeout)),
    restart: settings[0]!.restart,
    maxMemory: limits.length === 0 ? undefined : Math.min(...limits),
  }
}
