// @bento/core's edge-safe entry: the service model and the server context. Nothing here imports a
// `node:` module, so a service definition loads on Node, Bun, Deno and edge runtimes.

export {
  Batcher,
  type BatcherOptions,
  type BatchReport,
  BatchShedError,
} from './batch.ts'
export { type Clock, systemClock } from './clock.ts'
export {
  type GatherTransport,
  localAnswer,
  SUPERVISOR_TOPIC,
  type SupervisorStats,
  serverContext,
  setGatherTransport,
  setWorkerStatus,
  type WorkerStatus,
} from './context.ts'
export { COST_MODEL_DEFAULTS, CostModel, type CostModelOptions } from './cost-model.ts'
export { environment, readEnv } from './env.ts'
export { BentoConfigError, HttpError } from './errors.ts'
export {
  allocateGpus,
  type GpuAllocation,
  type GpuDevice,
  type GpuPool,
  type GpuSlots,
  gpuPool,
  gpuSlots,
} from './gpu.ts'
export { type Lifecycle, lifecycle } from './lifecycle.ts'
export {
  type PlanOptions,
  plan,
  type WorkerAssignment,
  type WorkerPlan,
} from './plan.ts'
export {
  isStandardSchema,
  type SchemaIssue,
  type StandardSchemaV1,
  type Validation,
  validate,
} from './schema.ts'
export {
  type ApiContext,
  type ApiDefinition,
  api,
  type Backoff,
  type BatchApi,
  DEFAULTS,
  isService,
  type NormalizedApi,
  type NormalizedConfig,
  type ResolvedRestartPolicy,
  type Resources,
  type RestartPolicy,
  type Service,
  type ServiceConfig,
  type SingleApi,
  service,
  type Traffic,
  type WorkerInfo,
} from './service.ts'
export { THREAD_ENVS, threadEnv } from './threads.ts'
export { formatBytes, parseBytes } from './units.ts'
