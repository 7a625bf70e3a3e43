// @bento/core/supervisor: runs any worker module, one process per worker, on one public port:
// restarts, reloads, drains. What `serve()` (in @bento/core/serve) is built on; use it directly to
// supervise workers of your own.

export type { PortSharing } from './runtime/types.ts'
export { createLogger, type LogFormat, type Logger, type LogLevel } from './supervisor/logger.ts'
export type {
  ResolvedOptions,
  SuperviseOptions,
  WorkerSlot,
} from './supervisor/options.ts'
export {
  type ReloadOptions,
  runSupervisor,
  type Supervisor,
  type SupervisorExit,
  supervise,
  type WorkerProcessInfo,
} from './supervisor/supervisor.ts'
