// What `serve()` takes and what it returns: in a module of their own, so that the pieces of
// serving (start-graph.ts) share them without importing serve.ts.
import type { PlanOptions } from '../plan/plan.ts'
import type { PortSharing } from '../runtime/types.ts'
import type { LogFormat, Logger } from '../supervisor/logger.ts'
import type { Supervisor } from '../supervisor/supervisor.ts'
import type { EntryDescription } from './describe.ts'
import type { GraphLayout } from './layout.ts'
import type { PoolPlan } from './pool.ts'

/** What to serve, and how. */
export interface ServeOptions {
  /** The module the user wrote: it exports a service, or an app (a Hono app) mounting services. */
  entry: string | URL
  /** How messages name the entry (the file the user gave, when `entry` is compiled from it). */
  source?: string
  /** The module every worker and the deployment process run: it calls `runEntry()`. */
  workerModule: string | URL
  /** Default 3000; 0 picks a free port. */
  port?: number
  /** Default `0.0.0.0`. */
  host?: string
  /** A worker count over the strategy, with where it came from (`--workers`). */
  workers?: PlanOptions['workers']
  /** Seconds a draining worker gets, over the services' own `drainTimeout`. */
  drainTimeout?: number
  /** Variables for every process, on top of this one's environment. */
  env?: Record<string, string>
  /** Runtime flags for the processes that load the entry. Default: as the supervisor's. */
  execArgv?: readonly string[]
  /** `pretty` (default), `json`, or a logger of your own. */
  logger?: LogFormat | Logger
  /**
   * A line per request from every worker (method, route, status, duration, bytes, request and
   * trace id), in the logger's format. Default false.
   */
  accessLog?: boolean
  portSharing?: PortSharing
  cwd?: string
  /**
   * A second port for `/livez`, `/healthz`, `/readyz` and `/metrics` (then served only there),
   * for probes and scrapers the public port need not answer.
   */
  adminPort?: number
  /**
   * Serve this service of the entry's graph alone, on the public port (one Deployment per
   * service); its dependencies must all have addresses.
   */
  service?: string
  /**
   * Where dependencies served elsewhere answer, by service name (over `$BENTO_DEPENDS`, which is
   * read too, and over the code's own `url`s): those are not started here.
   */
  depends?: Record<string, string>
  /**
   * How dependencies served here take calls: `unix` (default), private Unix sockets in a
   * directory only this user can enter, removed on exit; `tcp`, ports of 127.0.0.1 (the
   * default where Unix sockets are unavailable).
   */
  transport?: 'unix' | 'tcp'
  /**
   * Handle SIGTERM/SIGINT (drain), SIGHUP (reload) and exit the process with the supervisor's code,
   * as a server process should. Default true; false for a library that runs several.
   */
  signals?: boolean
  /**
   * Keep a warm standby process per worker, loaded up to the entry (and `preload`, a module that
   * imports the packages the entry imports), so a reload or restart only imports the user's code
   * (`bento dev`: a reload on Node in ~0.15 s instead of ~0.4). Costs a process per worker.
   */
  standby?: { preload?: string }
}

/** One service's pool, as served. */
export interface ServedPool {
  readonly name: string
  readonly plan: PoolPlan
  readonly supervisor: Supervisor
  /** True for a dependency served on private sockets; false for the entry's pool. */
  readonly internal: boolean
}

/** A service being served. */
export interface Serving {
  /** Every pool as one: it stops, reloads and ends them all; its workers are the entry's. */
  readonly supervisor: Supervisor
  /** What the entry serves, as the deployment process described it. */
  readonly description: EntryDescription
  /** What runs here and what is called elsewhere. */
  readonly layout: GraphLayout
  /** The entry pool's plan. */
  readonly plan: PoolPlan
  /** Every pool: the dependencies served here, dependencies first, then the entry's. */
  readonly pools: readonly ServedPool[]
  /** Where it answers, e.g. `http://localhost:3000`. */
  readonly url: string
  readonly logger: Logger
}
