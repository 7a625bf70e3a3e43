// Every default of bento, in one place: a service's settings, and the options of the supervisor,
// the HTTP adapter, the batcher's cost model and `bento build`'s deploy section.

/** Every default, in one place. */
export const DEFAULTS = {
  workersPerResource: 1,
  multiThreaded: false,
  traffic: { timeout: 60 },
  http: { bodyLimit: 10 * 2 ** 20, maxFormFields: 1000 },
  cors: { headers: ['content-type', 'authorization'], maxAge: 600 },
  expose: { metrics: true, docs: true },
  restart: {
    minUptime: 1,
    maxRestarts: 5,
    window: 60,
    backoff: { initial: 0.1, max: 10, resetAfter: 30 },
    keepRetrying: false,
  },
  drainTimeout: 30,
  tracing: { sampleRate: 1 },
  batch: { maxBatchSize: 32, maxLatencyMs: 100 },
  // Where a served service listens: every address (a container's port is published from outside
  // it), except under `bento dev`, which answers this machine only.
  listen: { port: 3000, host: '0.0.0.0', devHost: '127.0.0.1' },
  /** `supervise()`: seconds to wait for workers at shutdown; a gather's wait; the memory check. */
  supervisor: { shutdownGrace: 5, gatherTimeoutMs: 1000, memoryCheckInterval: 1 },
  /** `toHono()`'s own options (@bento/hono). */
  adapter: { maxJsonDepth: 128, health: true, openapiVersion: '0.0.0' },
  /** How the batcher's cost model learns (`CostModelOptions`). */
  costModel: { window: 64, maxAgeMs: 60_000, warmup: 1, minSamples: 4 },
  /** The `deploy` section (`bento build`). */
  deploy: { replicas: 1, startupTimeout: 300, targetInFlight: 8, targetCpuPercent: 70 },
} as const
