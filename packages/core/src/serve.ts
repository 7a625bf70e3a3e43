// @bento/core/serve: serving and planning, for the CLI and other tools (GPU allocation itself is
// plan()'s and planGraph()'s, not a separate API). `serve()` takes the entry
// the user wrote and runs it: described, planned with the worker-count strategy, supervised.
export { environment } from './env.ts'
export {
  type Plannable,
  type PlanOptions,
  plan,
  type WorkerAssignment,
  type WorkerPlan,
} from './plan/plan.ts'
export { type RuntimeName, runtimeName } from './runtime/detect.ts'
export { inheritedExecArgv } from './runtime/index.ts'
export {
  type ApiDescription,
  describeExport,
  type EntryDescription,
  type ServiceDescription,
} from './serving/describe.ts'
export { type EntryExport, findExport } from './serving/entry.ts'
export {
  type GraphLayout,
  type LayoutOptions,
  layoutGraph,
  operatorAddresses,
} from './serving/layout.ts'
export {
  type GraphPlan,
  type PoolPlan,
  type PoolSettings,
  planGraph,
} from './serving/pool.ts'
export { serve } from './serving/serve.ts'
export type { ServedPool, ServeOptions, Serving } from './serving/types.ts'
export { VARS } from './vars.ts'
