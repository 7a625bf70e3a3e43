// Every environment variable bento sets or reads, named once. (@bento/native keeps its own probe
// variables, BENTO_PROBE and BENTO_NVML_*, in native/lib/options.ts.)

/**
 * The names, by what they carry.
 * @example
 * const index = readEnv(VARS.workerIndex) // BENTO_WORKER_INDEX
 */
export const VARS = {
  // Set by the supervisor for each worker.
  /** 1-based index of the worker, kept across its restarts. */
  workerIndex: 'BENTO_WORKER_INDEX',
  /** Workers in the pool. */
  workerCount: 'BENTO_WORKER_COUNT',
  /** `index.generation`: unique per process. */
  workerId: 'BENTO_WORKER_ID',
  /** The supervisor's Unix socket. */
  ipc: 'BENTO_IPC',
  /** Where to listen (reuseport), or what to say the port is (round-robin). */
  host: 'BENTO_HOST',
  port: 'BENTO_PORT',
  /** Seconds a draining worker waits for its requests in flight. */
  drainTimeout: 'BENTO_DRAIN_TIMEOUT',
  /** How the worker gets its connections: an inherited socket, SO_REUSEPORT, or hand-offs. */
  listenFd: 'BENTO_LISTEN_FD',
  reusePort: 'BENTO_REUSE_PORT',
  handoff: 'BENTO_HANDOFF',
  /** The Unix socket a worker serves its operational routes on, for the admin port. */
  adminListen: 'BENTO_ADMIN_LISTEN',
  /** Where an internal service's worker listens: `unix:<path>` or `tcp:127.0.0.1`. */
  listen: 'BENTO_LISTEN',
  /**
   * The random token that calls between the services of one graph carry, and that its internal
   * workers require: only in the environment of the graph's processes.
   */
  internalToken: 'BENTO_INTERNAL_TOKEN',
  /** The directory of the graph's private sockets: Deno workers may write (connect) there. */
  socketDir: 'BENTO_SOCKET_DIR',
  /**
   * `1` for a warm standby: it loads the runtime, bento and $BENTO_PRELOAD, then waits for the
   * supervisor's `go` before it imports the entry (a reload takes it instead of a cold start).
   */
  standby: 'BENTO_STANDBY',
  /** The worker's GPU UUIDs, comma-separated (its CUDA_VISIBLE_DEVICES, by plan()). */
  gpus: 'BENTO_GPUS',
  // Set by serve() for the processes that load the user's entry.
  /** The module to import. */
  entry: 'BENTO_ENTRY',
  /** The file the user named, for messages, when `entry` is its compiled form. */
  source: 'BENTO_SOURCE',
  /** A module a standby imports while it waits: the packages the entry imports (`bento dev`). */
  preload: 'BENTO_PRELOAD',
  /** `serve` (a worker) or `deploy` (describes the entry, then runs onDeployment). */
  role: 'BENTO_ROLE',
  /** `1`: workers log a line per request (`bento serve`'s default). */
  accessLog: 'BENTO_ACCESS_LOG',
  /** `json` or `pretty`, as the supervisor logs: how access lines are written. */
  logFormat: 'BENTO_LOG_FORMAT',
  /**
   * The random prefix of a worker's line that is already a JSON log entry (its access lines), for
   * the supervisor to pass through; workers only learn it from their environment.
   */
  logMark: 'BENTO_LOG_MARK',
  /** Which service of the entry's graph a worker serves, when not the entry's own. */
  service: 'BENTO_SERVICE',
  /** The dependencies bento serves here, by name, comma-separated: calls wait for their workers. */
  peers: 'BENTO_PEERS',
  // Read from the user's environment.
  /** A worker count over the service's strategy. */
  workers: 'BENTO_WORKERS',
  /** Addresses of dependencies served elsewhere: `name=url,name=url`. */
  depends: 'BENTO_DEPENDS',
  /** A bearer token for the calls to every dependency served elsewhere (`Authorization`). */
  dependsToken: 'BENTO_DEPENDS_TOKEN',
  /** Leave CUDA_VISIBLE_DEVICES as inherited. */
  disableGpuAllocation: 'BENTO_DISABLE_GPU_ALLOCATION',
  /** `development` turns on development mode, as NODE_ENV does. */
  env: 'BENTO_ENV',
} as const
