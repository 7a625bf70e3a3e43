// One lifecycle per service per process: `onStartup` runs once, whether the worker runtime starts
// the service eagerly or a plain Hono app starts it on its first request.

import type { Service, WorkerInfo } from '../service/types.ts'
import { serverContext } from './context.ts'

/** A service's hooks bound to this process. */
export interface Lifecycle<State = unknown> {
  /** Runs `onStartup` once and returns its state; later calls return the same promise. */
  start(): Promise<State>
  /** Runs `onShutdown` once, after `start` finished; a service never started just stops. */
  stop(): Promise<void>
  /** `isReady`, true when the service has no such hook; false before start finished. */
  ready(): Promise<boolean>
  /** `isAlive`, true when the service has no such hook. */
  alive(): Promise<boolean>
  /** The state `onStartup` returned, `undefined` before it finished. */
  readonly state: State | undefined
  readonly started: boolean
  readonly worker: WorkerInfo
}

const KEY = Symbol.for('bento.lifecycles')

function registry(): WeakMap<Service<unknown>, Lifecycle<unknown>> {
  const g = globalThis as { [KEY]?: WeakMap<Service<unknown>, Lifecycle<unknown>> }
  g[KEY] ??= new WeakMap()
  return g[KEY]
}

/**
 * The lifecycle of `service` in this process, created on first use.
 * @example
 * const state = await lifecycle(service).start()
 */
export function lifecycle<State>(service: Service<State>): Lifecycle<State> {
  const known = registry().get(service as Service<unknown>)
  if (known) return known as Lifecycle<State>
  const created = createLifecycle(service)
  registry().set(service as Service<unknown>, created as Lifecycle<unknown>)
  return created
}

function createLifecycle<State>(service: Service<State>): Lifecycle<State> {
  const { onStartup, onShutdown, isReady, isAlive } = service.definition
  const worker = serverContext.worker
  let starting: Promise<State> | undefined
  let stopping: Promise<void> | undefined
  let state: State | undefined
  let started = false
  const self: Lifecycle<State> = {
    start() {
      starting ??= (async () => {
        state = onStartup ? await onStartup(worker) : (undefined as State)
        started = true
        return state
      })()
      return starting
    },
    stop() {
      stopping ??= (async () => {
        if (!starting) return
        const current = await starting.catch(() => undefined)
        if (started && onShutdown) await onShutdown({ ...worker, state: current as State })
      })()
      return stopping
    },
    async ready() {
      if (!started) return false
      return isReady ? Boolean(await isReady({ ...worker, state: state as State })) : true
    },
    async alive() {
      return isAlive ? Boolean(await isAlive({ ...worker, state: state as State })) : true
    },
    get state() {
      return state
    },
    get started() {
      return started
    },
    worker,
  }
  return self
}
