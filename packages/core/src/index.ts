// @bento/core for service authors: declaring a service and its APIs, the worker's context, and the
// errors a handler throws. Nothing here imports a `node:` module, so a service definition loads on
// Node, Bun, Deno and edge runtimes. HTTP adapters use `@bento/core/adapter`; serving and planning
// are in `@bento/core/serve`.
export { CallError, isCallError } from './client/errors.ts'
export { BentoConfigError, HttpError } from './errors.ts'
export { api } from './service/apis.ts'
export { DEFAULTS } from './service/defaults.ts'
export { type DependsOptions, depends } from './service/depends.ts'
export type { Autoscaling, Deploy, ResolvedDeploy } from './service/deploy.ts'
export type { StandardSchemaV1 } from './service/schema.ts'
export { type EnvSecret, env, type Secret } from './service/secret.ts'
export { service } from './service/service.ts'
export type { ResolvedTracing, Tracing } from './service/tracing.ts'
export type {
  ApiContext,
  ApiDefinition,
  Auth,
  Backoff,
  BatchApi,
  BatchContext,
  BatchItem,
  CallOptions,
  Client,
  ClientMethod,
  Clients,
  Cors,
  Dependency,
  DependsMap,
  Expose,
  HandlerResult,
  HttpLimits,
  NormalizedApi,
  PendingCall,
  ResolvedDependency,
  Resources,
  RestartPolicy,
  Service,
  ServiceConfig,
  ServiceSettings,
  SingleApi,
  Traffic,
  UntypedClient,
  UntypedDepends,
  WorkerInfo,
} from './service/types.ts'
export type { SupervisorStats } from './supervisor/protocol.ts'
export { serverContext, type WorkerStatus } from './worker/context.ts'
