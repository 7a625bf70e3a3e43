// With an admin port, a worker serves its operational routes there and keeps /metrics off the
// public port; health checks stay on both (a load balancer's probe may know only the public
// port). Matched by the path's last segment, so that an app mounting a service under `/ml` is
// covered too (`/ml/metrics`).
import type { FetchHandler } from './types.ts'

const OPERATIONAL = /\/(livez|healthz|readyz|metrics)\/?$/
const PUBLIC_REFUSED = /\/metrics\/?$/

const notHere = (what: string) =>
  new Response(JSON.stringify({ error: what }), {
    status: 404,
    headers: { 'content-type': 'application/json' },
  })

/**
 * `fetch` for the admin socket: the health checks and /metrics; 404 for anything else.
 * @example
 * await runtime.serve(adminRoutes(app.fetch), { host: '127.0.0.1', port: 0, path })
 */
export function adminRoutes(fetch: FetchHandler): FetchHandler {
  const inner = fetch as Handler
  const wrapped: Handler = (request, ...platform) => {
    if (OPERATIONAL.test(new URL(request.url).pathname)) return inner(request, ...platform)
    return notHere('the admin port serves /livez, /healthz, /readyz and /metrics only')
  }
  return wrapped as FetchHandler
}

/**
 * `fetch` for the public port when there is an admin port: /metrics answers 404 there.
 * @example
 * await runtime.serve(withoutMetrics(app.fetch), { host, port })
 */
export function withoutMetrics(fetch: FetchHandler): FetchHandler {
  const inner = fetch as Handler
  const wrapped: Handler = (request, ...platform) => {
    // Most requests are not for /metrics: look at the URL's end before parsing it.
    if (request.url.includes('/metrics') && PUBLIC_REFUSED.test(new URL(request.url).pathname)) {
      return notHere('/metrics is served on the admin port')
    }
    return inner(request, ...platform)
  }
  return wrapped as FetchHandler
}

type Handler = (request: Request, ...platform: unknown[]) => Response | Promise<Response>
