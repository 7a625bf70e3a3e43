// `client()`: the typed client of a service served somewhere, for any TypeScript program (Node,
// Bun, Deno, browsers, edge runtimes). Built on `fetch`; imports no `node:` module.
import type { CallOptions, Client, Service } from '../service/types.ts'
import { isService } from '../service/types.ts'
import { httpAnswer } from './answer.ts'
import { type ApiRoute, startCall, type Target } from './call.ts'
import { httpRequestOf } from './http.ts'

/** Options of `client()`. */
export interface ClientOptions {
  /** Milliseconds each call may take, unless it says otherwise. Default: no limit. */
  timeout?: number
  /** Headers sent with every call (an `authorization`, say). */
  headers?: Record<string, string>
  /** The `fetch` to send with. Default: the global one. */
  fetch?: typeof fetch
}

/**
 * A typed client of the service served at `url`: one method per API, taking its input and
 * resolving to its output (a streaming API's method returns an async iterable of its chunks).
 * Given only a type, each API is called at its default route, `POST /<api name>`; pass the
 * service itself when it sets its own routes or methods.
 * @example
 * import { client } from 'bento/client'
 * import type search from './search.ts'
 *
 * const api = client<typeof search>('http://localhost:3000', { timeout: 5000 })
 * const { hits } = await api.search({ q: 'bento' })
 * for await (const token of api.generate({ prompt: 'Hi' })) console.log(token)
 */
export function client<S>(url: string | URL, options?: ClientOptions): Client<S>
// biome-ignore lint/suspicious/noExplicitAny: any service
export function client<S extends Service<any, any, any>>(
  service: S,
  url: string | URL,
  options?: ClientOptions
): Client<S>
export function client(
  first: string | URL | Service,
  second?: string | URL | ClientOptions,
  third?: ClientOptions
): unknown {
  const service = isService(first) ? first : undefined
  const url = service === undefined ? first : second
  const options = (service === undefined ? second : third) as ClientOptions | undefined
  if (typeof url !== 'string' && !(url instanceof URL)) {
    throw new TypeError(`client() needs the base URL of the service, got ${typeof url}`)
  }
  const base = String(url).replace(/\/+$/, '')
  const send = options?.fetch ?? globalThis.fetch.bind(globalThis)
  const name = service?.name ?? new URL(base).host
  const target: Target = {
    service: name,
    async send(call) {
      const request = httpRequestOf(call)
      const response = await send(`${base}${request.path}`, {
        method: request.method,
        headers: request.headers,
        ...(request.body !== undefined && { body: request.body }),
        signal: call.signal,
      })
      return httpAnswer(response)
    },
  }
  const routes = new Map<string, ApiRoute>(
    (service?.apis ?? []).map((api) => [
      api.name,
      { name: api.name, route: api.route, method: api.method },
    ])
  )
  const methods = new Map<string, unknown>()
  return new Proxy(
    {},
    {
      get(_, key) {
        // Not an API: `then` (the client was awaited), symbols (inspection).
        if (typeof key !== 'string' || key === 'then') return undefined
        let method = methods.get(key)
        if (method === undefined) {
          const api =
            routes.get(key) ??
            (service ? undefined : { name: key, route: `/${key}`, method: 'POST' })
          if (api === undefined) {
            throw new TypeError(
              `the service "${name}" has no API "${key}"; it has ${[...routes.keys()].join(', ')}`
            )
          }
          method = (input?: unknown, call?: CallOptions) =>
            startCall(
              target,
              api,
              input,
              { headers: options?.headers },
              { ...(options?.timeout !== undefined && { timeout: options.timeout }), ...call }
            )
          methods.set(key, method)
        }
        return method
      },
    }
  )
}
