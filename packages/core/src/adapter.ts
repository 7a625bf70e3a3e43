// @bento/core/adapter: what an HTTP adapter (@bento/hono) builds on: validation, the batcher, each
// service's lifecycle in a worker, and the services an app serves. Edge-safe, as the root is.
export { Batcher, BatchShedError } from './batch/batcher.ts'
export { readAtMost } from './client/answer.ts'
export { startCall, type Target, TIMEOUT_HEADER } from './client/call.ts'
export { STREAM_JSON_HEADER } from './client/chunks.ts'
export { dependsFor } from './client/depends.ts'
export {
  type ChunkSource,
  type ChunkStep,
  type LocalApi,
  type LocalCall,
  type LocalOutcome,
  READY_API,
  registerLocalApis,
} from './client/local.ts'
export { callInProcess, dependencyStats, targetFor } from './client/registry.ts'
export type { DependencySnapshot } from './client/stats.ts'
export type { Clock } from './clock.ts'
export { readEnv } from './env.ts'
export { EntryError } from './errors.ts'
export { Histogram, type HistogramData, LATENCY_BUCKETS } from './histogram.ts'
export { type RuntimeName, runtimeName } from './runtime/detect.ts'
export { serviceGraph } from './service/graph.ts'
export {
  type SchemaIssue,
  type StandardSchemaV1,
  type Validation,
  validate,
} from './service/schema.ts'
export { bearerTokens } from './service/secret.ts'
export { markServed } from './serving/served.ts'
export type { SupervisorStats } from './supervisor/protocol.ts'
export { accessLog } from './telemetry/access-log.ts'
export { INSTRUMENTS, type Instrument } from './telemetry/instruments.ts'
export { activeTelemetry, type TracedApi, type TracedRequest } from './telemetry/telemetry.ts'
export { formatBytes, parseBytes } from './units.ts'
export { VARS } from './vars.ts'
export { gatherGraph, graphSupervisorStats, serverContext } from './worker/context.ts'
export { type Lifecycle, lifecycle } from './worker/lifecycle.ts'
