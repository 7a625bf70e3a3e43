// The services this process serves through an HTTP adapter: `toHono(service)` reports each one
// here. For an entry that exports an app, that is how the workers and the deployment process
// learn which services it mounts (Hono's `app.route()` copies routes, not the apps they came
// from), so each one gets its worker-count strategy, its onDeployment, onStartup and onShutdown.
// Kept on globalThis, as the server context is, so that two copies of @bento/core agree.
import type { Service } from '../service/types.ts'

const KEY = Symbol.for('bento.served')

function registry(): Set<Service> {
  const g = globalThis as { [KEY]?: Set<Service> }
  g[KEY] ??= new Set()
  return g[KEY]
}

/**
 * Records that this process serves `service` (an adapter calls it when it builds an app for it).
 */
export function markServed(service: Service): void {
  registry().add(service)
}

/**
 * Every service an adapter built an app for in this process, in the order they were built.
 * @example
 * await import('./app.ts')
 * servedServices() // [sentiment, summarize]
 */
export function servedServices(): Service[] {
  return [...registry()]
}
