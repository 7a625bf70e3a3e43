// The environment of each worker process: the supervisor's own (less the variables it sets per
// worker), the options' and the slot's, then the worker's identity and where it listens: the
// public port as the port-sharing mode wants it, or a private socket or port for a dependency.
import { dirname, join } from 'node:path'
import { environment } from '../env.ts'
import { VARS } from '../vars.ts'
import type { ResolvedOptions } from './options.ts'

// Variables the supervisor sets per worker: an inherited value (a supervisor started from a
// worker) must not leak through.
const OWN_VARS = new Set<string>([
  VARS.ipc,
  VARS.workerIndex,
  VARS.workerCount,
  VARS.workerId,
  VARS.host,
  VARS.port,
  VARS.listenFd,
  VARS.reusePort,
  VARS.handoff,
  VARS.drainTimeout,
  VARS.listen,
  VARS.adminListen,
  VARS.internalToken,
  VARS.socketDir,
  VARS.standby,
  // Never inherited: on Deno, the deployment process's role is what gives it --allow-all.
  VARS.role,
])

/** Where the worker is in the supervisor: how many there are, its IPC socket, the public port. */
export interface WorkerPlace {
  /** Workers of this supervisor. */
  count: number
  /** The supervisor's IPC socket. */
  ipc: string
  /** The public port, once claimed (absent for a dependency's workers). */
  port: number | undefined
}

/**
 * The environment of worker process `id` of `slot`.
 * @example
 * spawn({ env: workerEnv(options, slot, '1.1', { count: 2, ipc: '/tmp/bento/ipc.sock', port: 3000 }) })
 */
export function workerEnv(
  o: ResolvedOptions,
  slot: { readonly index: number; readonly env: Record<string, string> },
  id: string,
  place: WorkerPlace
): Record<string, string> {
  const base = Object.fromEntries(
    Object.entries(environment()).filter(([key]) => !OWN_VARS.has(key))
  )
  const own = {
    [VARS.workerIndex]: String(slot.index),
    [VARS.workerCount]: String(place.count),
    [VARS.workerId]: id,
    [VARS.ipc]: place.ipc,
    [VARS.drainTimeout]: String(o.drainTimeout),
  }
  const internal = o.internal
  if (internal !== undefined) {
    const listen =
      internal.transport === 'unix' ? `unix:${internalSocket(internal.dir, id)}` : 'tcp:127.0.0.1'
    return { ...base, ...o.env, ...slot.env, ...own, [VARS.listen]: listen }
  }
  return {
    ...base,
    ...o.env,
    ...slot.env,
    ...own,
    [VARS.host]: o.host,
    [VARS.port]: String(place.port),
    ...(o.portSharing === 'reuseport' && { [VARS.reusePort]: '1' }),
    ...(o.portSharing === 'shared-socket' && { [VARS.listenFd]: '3' }),
    ...(o.portSharing === 'round-robin' && { [VARS.handoff]: '1' }),
    ...(o.adminPort !== undefined && { [VARS.adminListen]: adminSocket(place.ipc, id) }),
  }
}

/**
 * A dependency's worker's own socket. One per process, not per index: during a reload the old and
 * the new worker of an index both listen, and the old one's must not be taken from under its
 * connections.
 */
export function internalSocket(dir: string, id: string): string {
  return join(dir, `${id}.sock`)
}

/** A worker's socket for the operational routes, beside the supervisor's IPC socket. */
export function adminSocket(ipc: string, id: string): string {
  return join(dirname(ipc), `${id}.admin.sock`)
}
