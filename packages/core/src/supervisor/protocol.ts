// What the supervisor and its workers say to each other over the IPC socket (ipc.ts carries it):
// the messages each side sends and the gather topics the supervisor answers itself. Types and
// names only, no I/O: the worker side (worker/context.ts) imports it on edge runtimes too.

/** What a worker tells the supervisor. */
export type WorkerMessage =
  /** First message on a connection: who this is (`id` is unique per spawned process). */
  | { type: 'hello'; workerIndex: number; pid: number; id: string }
  /** First message of a warm standby (`id`: the one it will serve as): it waits for `go`. */
  | { type: 'standby'; id: string }
  /**
   * Startup hooks ran and the worker is listening; `endpoint` says where, for a worker of an
   * internal service (`unix:/path` or `http://127.0.0.1:port`).
   */
  | { type: 'ready'; endpoint?: string }
  /** Startup failed; the worker exits 1 right after. */
  | { type: 'error'; message: string; stack?: string }
  /** Asks for every ready worker's answer to `topic` (`serverContext.gather`). */
  | { type: 'gather'; id: number; topic: string }
  /** This worker's answer to the supervisor's `ask` with the same id; no `value`: no answer. */
  | { type: 'answer'; id: number; value?: unknown }
  /** It answered its first request: from now on its exit is never a crash loop. */
  | { type: 'served' }
  /** (The deployment process.) What the entry serves: an `EntryDescription`. */
  | { type: 'described'; description: unknown }
  /** (The deployment process.) Every onDeployment hook ran. */
  | { type: 'deployed' }

/** What the supervisor tells a worker. */
export type SupervisorMessage =
  /** (To a standby.) Import the entry now and start as a worker (with a new `hello`). */
  | { type: 'go' }
  /** Stop accepting, finish the requests in flight, run onShutdown, exit 0. */
  | { type: 'drain' }
  /** Asks for this worker's answer to `topic`. */
  | { type: 'ask'; id: number; topic: string }
  /** The answers to the worker's `gather` with the same id, in worker order. */
  | { type: 'gathered'; id: number; values: unknown[] }
  /** The ready workers of `service`, a dependency: where to send calls to it. */
  | { type: 'peers'; service: string; endpoints: string[] }
  /** (To the deployment process.) Run these services' onDeployment hooks, say `deployed`, exit. */
  | { type: 'deploy'; services: string[] }
  /** (To the deployment process.) Nothing to run: exit. */
  | { type: 'done' }

/** What the supervisor counts about its workers, by cause: restarts and memory recycles. */
export interface SupervisorStats {
  /** Restarts of workers that exited unasked, by cause: `oom` (the OOM killer) or `crash`. */
  restarts: Record<string, number>
  /** Workers replaced on purpose, by cause: `memory` (over `maxMemory`). */
  recycles: Record<string, number>
}

/** The gather topic the supervisor answers itself, with its `SupervisorStats`. */
export const SUPERVISOR_TOPIC = 'bento:supervisor'

/** Gather topics with this prefix are about the other services of the graph (`graphGather`). */
export const GRAPH_TOPIC_PREFIX = 'bento:graph:'
