// A request that reached a socket without a `Host` header gets a 400, on every runtime. RFC 9112
// §3.2 requires it of HTTP/1.1, and Node's and Bun's parsers answer it themselves; Deno's passes
// the request on (its URL then names `localhost`). No runtime tells a fetch handler the request's
// HTTP version, so HTTP/1.0 needs `Host` too: the rule is the same on all three. It sits at the
// socket, not in the Hono app, which also serves requests made in-process (`app.request('/x')`),
// where no Host is sent.
import type { FetchHandler } from './types.ts'

const MISSING_HOST = JSON.stringify({
  error: 'the request has no Host header: send one (RFC 9112 §3.2 requires it)',
})

/**
 * Wraps `fetch` so that a request without a `Host` header is answered 400 before it runs.
 * @example
 * await runtime.serve(hostRequired(app.fetch), { host: '0.0.0.0', port: 3000 })
 */
export function hostRequired(fetch: FetchHandler): FetchHandler {
  // The runtime's own arguments after the request (Bun's server, Node's incoming and outgoing
  // messages) go through: the app reads them as its env.
  const inner = fetch as Handler
  const wrapped: Handler = (request, ...platform) => {
    if (request.headers.has('host')) return inner(request, ...platform)
    return new Response(MISSING_HOST, {
      status: 400,
      headers: { 'content-type': 'application/json', connection: 'close' },
    })
  }
  return wrapped as FetchHandler
}

type Handler = (request: Request, ...platform: unknown[]) => Response | Promise<Response>
