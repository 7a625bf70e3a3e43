// The server context: which worker this is, what state it is in, and a way to ask every worker of
// the service a question (for service-wide /metrics and /readyz). Kept on globalThis under a
// registered symbol so that two copies of @bento/core (the CLI's and the user's) share it.
import { readEnv } from '../env.ts'
import type { WorkerInfo } from '../service/types.ts'
import {
  GRAPH_TOPIC_PREFIX,
  SUPERVISOR_TOPIC,
  type SupervisorStats,
} from '../supervisor/protocol.ts'
import { VARS } from '../vars.ts'

/** Where a worker is in its life. */
export type WorkerStatus = 'starting' | 'ready' | 'draining'

/** How the worker runtime reaches the other workers; absent when running standalone. */
export type GatherTransport = (topic: string) => Promise<unknown[]>

interface Shared {
  status: WorkerStatus
  answers: Map<string, () => unknown>
  transport: GatherTransport | undefined
}

const KEY = Symbol.for('bento.serverContext')

function shared(): Shared {
  const g = globalThis as { [KEY]?: Shared }
  g[KEY] ??= { status: 'starting', answers: new Map(), transport: undefined }
  return g[KEY]
}

function positiveInt(value: string | undefined, fallback: number): number {
  const n = Number(value)
  return Number.isInteger(n) && n > 0 ? n : fallback
}

/**
 * This worker's identity and status, as BentoML's `server_context`. Outside a supervisor (a plain
 * Hono app, an edge runtime) it describes a single worker with index 1.
 * @example
 * const device = `cuda:${serverContext.workerIndex - 1}`
 */
export const serverContext = {
  /** 1-based index of this worker (`$BENTO_WORKER_INDEX`), 1 when standalone. */
  get workerIndex(): number {
    return positiveInt(readEnv(VARS.workerIndex), 1)
  },
  /** Workers in the service (`$BENTO_WORKER_COUNT`), 1 when standalone. */
  get workerCount(): number {
    return positiveInt(readEnv(VARS.workerCount), 1)
  },
  /** True inside a worker started by the bento supervisor. */
  get supervised(): boolean {
    return shared().transport !== undefined
  },
  /** `starting` until startup hooks ran, `ready` while serving, `draining` while shutting down. */
  get status(): WorkerStatus {
    return shared().status
  },
  /** What this worker's hooks and handlers learn about it. */
  get worker(): WorkerInfo {
    const gpus = readEnv(VARS.gpus) ?? ''
    return {
      workerIndex: this.workerIndex,
      workerCount: this.workerCount,
      gpus: gpus.split(',').filter(Boolean),
      threads: positiveInt(readEnv('OMP_NUM_THREADS'), 1),
    }
  },
  /**
   * Registers this worker's answer to `topic` for `gather`.
   * @example
   * serverContext.answer('metrics', () => registry.snapshot())
   */
  answer(topic: string, fn: () => unknown): void {
    shared().answers.set(topic, fn)
  },
  /**
   * Every live worker's answer to `topic` (this worker's alone when standalone).
   * @example
   * const snapshots = await serverContext.gather('metrics')
   */
  async gather(topic: string): Promise<unknown[]> {
    const { transport } = shared()
    if (transport) return transport(topic)
    const local = await localAnswer(topic)
    return local === undefined ? [] : [local]
  },
  /**
   * The supervisor's restart and recycle counters; `undefined` when standalone.
   * @example
   * const stats = await serverContext.supervisorStats()
   * stats?.restarts.oom // workers the OOM killer ended
   */
  async supervisorStats(): Promise<SupervisorStats | undefined> {
    const { transport } = shared()
    if (!transport) return undefined
    const [stats] = await transport(SUPERVISOR_TOPIC)
    const { restarts, recycles } = (stats ?? {}) as Partial<SupervisorStats>
    const isTable = (value: unknown) => typeof value === 'object' && value !== null
    return isTable(restarts) && isTable(recycles) ? (stats as SupervisorStats) : undefined
  },
}

/**
 * Every other service's answers to `topic` (through the supervisors of the graph bento serves
 * here), by service; none when this worker is not part of one.
 * @example
 * for (const { service, values } of await gatherGraph('metrics')) render(service, values)
 */
export async function gatherGraph<T>(topic: string): Promise<{ service: string; values: T[] }[]> {
  try {
    const answers = await serverContext.gather(`${GRAPH_TOPIC_PREFIX}${topic}`)
    return answers.filter(
      (a): a is { service: string; values: T[] } =>
        typeof a === 'object' && a !== null && Array.isArray((a as { values?: unknown }).values)
    )
  } catch {
    return []
  }
}

/**
 * The other services' supervisors' counters (`serverContext.supervisorStats()` of each), by service.
 */
export function graphSupervisorStats(): Promise<{ service: string; values: SupervisorStats[] }[]> {
  return gatherGraph<SupervisorStats>(SUPERVISOR_TOPIC)
}

/**
 * This worker's own answer to `topic`, `undefined` when nothing answers it. Used by the worker
 * runtime to reply to the supervisor.
 */
export async function localAnswer(topic: string): Promise<unknown> {
  const fn = shared().answers.get(topic)
  return fn === undefined ? undefined : await fn()
}

/**
 * Sets this worker's status; called by the worker runtime.
 */
export function setWorkerStatus(status: WorkerStatus): void {
  shared().status = status
}

/**
 * Connects `gather` to the supervisor; called by the worker runtime.
 */
export function setGatherTransport(transport: GatherTransport | undefined): void {
  shared().transport = transport
}
