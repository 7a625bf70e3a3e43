// `ctx.depends`: for each service a handler's service depends on, a client whose calls carry the
// request's remaining time, its cancellation, its id and its trace context, and are counted for
// `/metrics`. Built per request, lazily: most requests of most services call nothing.
import type { ResolvedDependency, Service, UntypedClient } from '../service/types.ts'
import type { TracedRequest } from '../telemetry/telemetry.ts'
import { childTraceparent, type Trace, traceOf } from '../telemetry/trace.ts'
import { type ApiRoute, startCall } from './call.ts'
import { dependencyStats, targetFor } from './registry.ts'

/** What a handler's calls inherit from its request. */
export interface RequestLink {
  /** The handler's signal. */
  readonly signal: AbortSignal
  /** Milliseconds left before the request times out. */
  remainingMs(): number
  readonly requestId: string
  /** The request's headers (for its `traceparent`). */
  readonly headers: Headers
  /** The request's span, when tracing is on: each call gets a client span under it. */
  readonly traced?: TracedRequest | undefined
}

interface Prepared {
  key: string
  dependency: ResolvedDependency
  routes: Map<string, ApiRoute>
}

const prepared = new WeakMap<Service, Prepared[]>()

function prepare(service: Service): Prepared[] {
  let table = prepared.get(service)
  if (table === undefined) {
    table = Object.entries(service.depends).map(([key, dependency]) => ({
      key,
      dependency,
      routes: new Map(
        dependency.service.apis.map((api) => [
          api.name,
          { name: api.name, route: api.route, method: api.method },
        ])
      ),
    }))
    prepared.set(service, table)
  }
  return table
}

/**
 * The `ctx.depends` of one request to `service`.
 * @example
 * const depends = dependsFor(service, { signal, remainingMs, requestId, headers })
 * await depends.embedder.embed({ text })
 */
export function dependsFor(service: Service, link: RequestLink): Record<string, UntypedClient> {
  const clients: Record<string, UntypedClient> = {}
  let trace: Trace | undefined
  for (const { key, dependency, routes } of prepare(service)) {
    const callee = dependency.service.name
    let client: UntypedClient | undefined
    Object.defineProperty(clients, key, {
      enumerable: true,
      get() {
        client ??= new Proxy({} as UntypedClient, {
          get(_, name) {
            if (typeof name !== 'string') return undefined
            const api = routes.get(name)
            if (api === undefined) {
              // `then`: someone awaited the client itself; anything else is a typo worth naming.
              if (name === 'then') return undefined
              throw new TypeError(
                `the service "${callee}" has no API "${name}"; it has ${[...routes.keys()].join(', ')}`
              )
            }
            return (input?: unknown, options?: Parameters<UntypedClient[string]>[1]) => {
              const span = link.traced?.call(callee, api)
              let traceparent = span?.traceparent
              if (traceparent === undefined) {
                trace ??= traceOf(link.headers.get('traceparent'))
                traceparent = childTraceparent(trace)
              }
              return startCall(
                targetFor(callee, dependency, service),
                api,
                input,
                {
                  signal: link.signal,
                  remainingMs: link.remainingMs(),
                  requestId: link.requestId,
                  traceparent,
                  onDone: (outcome, seconds) => {
                    span?.end(outcome, seconds)
                    dependencyStats().record(service.name, callee, api.name, outcome, seconds)
                  },
                },
                options
              )
            }
          },
        })
        return client
      },
    })
  }
  return clients
}
