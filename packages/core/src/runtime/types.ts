// The shape every runtime adapter has. The supervisor and the worker are written once against it;
// node.ts, bun.ts and deno.ts differ only in how they spawn, signal and serve.

/**
 * What a worker serves: a fetch handler, as Hono's `app.fetch`. Each runtime also passes its usual
 * second argument (Node's `{ incoming, outgoing }`, Bun's server, Deno's `ServeHandlerInfo`), so
 * Hono's `getConnInfo` keeps working.
 */
export type FetchHandler = (request: Request) => Response | Promise<Response>

/** The signals the supervisor sends or handles. */
export type Signal = 'SIGTERM' | 'SIGINT' | 'SIGHUP' | 'SIGKILL'

/** How a process ended: its exit code, or the signal that killed it. */
export interface ExitStatus {
  code: number | null
  signal: string | null
  /** Set when the process could not be started at all. */
  error?: Error
}

/** What the supervisor starts a worker with. */
export interface SpawnOptions {
  /** The module the worker runs. */
  entry: string
  /** Runtime flags placed before it. */
  execArgv: readonly string[]
  /** The complete environment. */
  env: Record<string, string>
  cwd?: string
  /** A listening socket to hand the child as its fd 3 (`shared-socket` sharing). */
  listenFd?: number
}

/**
 * How workers share the public port. `round-robin`: the supervisor accepts and hands each
 * connection to a ready worker that has taken its last one (runtime/handoff.ts). `shared-socket`:
 * the supervisor binds the port and every worker accepts from that one socket. `reuseport`: every
 * worker binds the port itself with SO_REUSEPORT and the kernel hashes connections over them.
 */
export type PortSharing = 'round-robin' | 'shared-socket' | 'reuseport'

/** A started child process. */
export interface ChildHandle {
  readonly pid: number
  readonly stdout: AsyncIterable<Uint8Array>
  readonly stderr: AsyncIterable<Uint8Array>
  /** Sends `signal`; a no-op once the process has exited. */
  kill(signal: Signal): void
  readonly exited: Promise<ExitStatus>
}

/** Where a worker listens. */
export interface ListenOptions {
  host: string
  port: number
  /** An inherited listening socket to adopt instead of binding `host:port`. */
  fd?: number
  /** Bind with SO_REUSEPORT so that several workers share `host:port`. */
  reusePort?: boolean
  /** Bind nothing: serve the connections the supervisor hands over (`round-robin`). */
  handoff?: boolean
  /** Listen on the Unix socket at this path (mode 0600) instead of `host:port`. */
  path?: string
}

/** One HTTP request to another service's worker: what `fetchUnix` sends. */
export interface OutgoingCall {
  method: string
  /** The path and query, e.g. `/embed`. */
  path: string
  headers: Record<string, string>
  body?: string | undefined
  signal?: AbortSignal | undefined
}

/** A serving worker's listener. */
export interface Listener {
  readonly port: number
  /**
   * Drains: stops taking new connections, finishes the requests in flight, answers requests that
   * still arrive on open connections within `graceMs` with `connection: close`, then closes what
   * is idle. Resolves when no connection is left.
   */
  close(graceMs: number): Promise<void>
}

/** The public port as the supervisor holds it. */
export interface SharedPort {
  readonly port: number
  /** The listening socket's fd to pass to every worker, for `fd` sharing. */
  readonly fd: number | undefined
  /** `child` is ready for connections (where the supervisor hands them out). */
  admit(child: ChildHandle): void
  /** `child` drains or is gone: no more connections for it. */
  withdraw(child: ChildHandle): void
  close(): void
}

/** One runtime's way of running and serving workers. */
export interface Runtime {
  readonly name: 'node' | 'bun' | 'deno'
  /** The ways this runtime can share the port; the first is the default. */
  readonly portSharing: readonly PortSharing[]
  /** Checks that `host:port` is free (picking a port for 0) and prepares it for the workers. */
  sharePort(host: string, port: number, sharing: PortSharing): Promise<SharedPort>
  spawn(options: SpawnOptions): ChildHandle
  /** Calls `handler` on `signal` instead of the default action; returns the remover. */
  onSignal(signal: Signal, handler: () => void): () => void
  /** Serves `fetch` in this process. */
  serve(fetch: FetchHandler, options: ListenOptions): Promise<Listener>
  /** Sends `call` over the Unix socket at `path`, keeping connections to it alive. */
  fetchUnix(path: string, call: OutgoingCall): Promise<Response>
}
