// @bento/core/adapter: what an HTTP adapter (@bento/hono) builds on: validation, the batcher, each
// service's lifecycle in a worker, and the services an app serves. Edge-safe, as the root is.
export { Batcher, type BatcherOptions, type BatchReport, BatchShedError } from './batch/batcher.ts'
export { CostModel, type CostModelOptions } from './batch/cost-model.ts'
export { readAtMost } from './client/answer.ts'
export {
  type ApiRoute,
  type CallContext,
  startCall,
  type Target,
  TIMEOUT_HEADER,
} from './client/call.ts'
export { STREAM_JSON_HEADER } from './client/chunks.ts'
export { dependsFor, type RequestLink } from './client/depends.ts'
export {
  type ChunkSource,
  type ChunkStep,
  type LocalApi,
  type LocalCall,
  type LocalOutcome,
  localApisOf,
  READY_API,
  registerLocalApis,
} from './client/local.ts'
export { callInProcess, dependencyStats, targetFor } from './client/registry.ts'
export type { DependencySnapshot } from './client/stats.ts'
export { type Clock, systemClock } from './clock.ts'
export { readEnv } from './env.ts'
export { EntryError } from './errors.ts'
export { Histogram, type HistogramData, LATENCY_BUCKETS } from './histogram.ts'
export { type RuntimeName, runtimeName } from './runtime/detect.ts'
export { serviceGraph } from './service/graph.ts'
export {
  isStandardSchema,
  type SchemaIssue,
  type StandardSchemaV1,
  type Validation,
  validate,
} from './service/schema.ts'
export { bearerTokens } from './service/secret.ts'
export { markServed } from './serving/served.ts'
export type { SupervisorStats } from './supervisor/protocol.ts'
export { type AccessEntry, type AccessLog, accessLog } from './telemetry/access-log.ts'
export { INSTRUMENTS, type Instrument } from './telemetry/instruments.ts'
export {
  activeTelemetry,
  type Telemetry,
  type TracedApi,
  type TracedCall,
  type TracedRequest,
} from './telemetry/telemetry.ts'
export { formatBytes, parseBytes } from './units.ts'
export { VARS } from './vars.ts'
export {
  gatherGraph,
  graphSupervisorStats,
  serverContext,
  type WorkerStatus,
} from './worker/context.ts'
export { type Lifecycle, lifecycle } from './worker/lifecycle.ts'
