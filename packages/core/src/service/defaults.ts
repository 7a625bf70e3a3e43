// Every default of a service's settings, in one place.

/** The defaults, in one place. */
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
} as const
