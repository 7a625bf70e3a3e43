// @bento/core/internal: the worker runtime's own switches, for adapters' tests that run an app
// without a supervisor and stand in for one. Not for services; no stability promised.
export { localAnswer, setGatherTransport, setWorkerStatus } from './worker/context.ts'
