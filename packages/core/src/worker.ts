// @bento/core/worker: the worker side. `runEntry()` is what a worker module started by `serve()`
// calls; `runWorker()` serves any fetch handler as a worker of a supervisor (or standalone on
// $PORT).
export type { FetchHandler } from './runtime/types.ts'
export { type RunEntryOptions, runEntry } from './worker/entry.ts'
export { type RunningWorker, type RunWorkerOptions, runWorker } from './worker/worker.ts'
