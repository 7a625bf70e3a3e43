// `bento` as a library: what a service file needs, so that a project depends on one package. A
// curated list, not `export *`: internals stay internal, and importing `bento` loads neither the
// CLI nor anything a worker does not need.
export {
  type ApiContext,
  type ApiDefinition,
  api,
  type Backoff,
  type BatchApi,
  BentoConfigError,
  HttpError,
  type Resources,
  type RestartPolicy,
  type Service,
  type ServiceConfig,
  type SingleApi,
  serverContext,
  service,
  type Traffic,
  type WorkerInfo,
} from '@bento/core'
export { type SseMessage, sse, type ToHonoOptions, toHono } from '@bento/hono'
