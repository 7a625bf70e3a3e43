// The Host header of a request that reached a worker's socket. Without one, a 400 on every
// runtime; in development (`bento dev`), a 403 for a host name that is not this machine's. RFC 9112
// §3.2 requires it of HTTP/1.1, and Node's and Bun's parsers answer it themselves; Deno's passes
// the request on (its URL then names `localhost`). No runtime tells a fetch handler the request's
// HTTP version, so HTTP/1.0 needs `Host` too: the rule is the same on all three. It sits at the
// socket, not in the Hono app, which also serves requests made in-process (`app.request('/x')`),
// where no Host is sent.
import type { FetchHandler } from './types.ts'

//
// A development server on 127.0.0.1 is reachable from any web page the developer opens: through
// DNS rebinding (a name the attacker controls, resolved to 127.0.0.1 after the page loaded), the
// page can read its answers. What such a request can't fake is its Host, the attacker's name, so
// in development a worker answers only an IP address, `localhost` (or a name under it) and the
// host it was bound to, as Vite does.

const MISSING_HOST = JSON.stringify({
  error: 'the request has no Host header: send one (RFC 9112 §3.2 requires it)',
})

/**
 * Wraps `fetch` so that a request without a `Host` header is answered 400 before it runs, and,
 * with `development`, one for a host name other than this machine's is answered 403.
 * @example
 * await runtime.serve(hostRequired(app.fetch), { host: '0.0.0.0', port: 3000 })
 */
export function hostRequired(fetch: FetchHandler, development?: { bound: string }): FetchHandler {
  // The runtime's own arguments after the request (Bun's server, Node's incoming and outgoing
  // messages) go through: the app reads them as its env.
  const inner = fetch as Handler
  const bound = development?.bound.toLowerCase()
  const wrapped: Handler = (request, ...platform) => {
    const host = request.headers.get('host')
    if (host === null) return refuse(400, MISSING_HOST)
    if (bound === undefined) return inner(request, ...platform)
    const name = hostName(host)
    if (name === bound || isLocal(name)) return inner(request, ...platform)
    return refuse(
      403,
      JSON.stringify({
        error: `bento dev answers requests for this machine only (localhost, an IP address or ${bound}), not for ${JSON.stringify(name)}: a web page could otherwise read it through DNS rebinding. Use bento serve to answer other names`,
      })
    )
  }
  return wrapped as FetchHandler
}

function refuse(status: number, body: string): Response {
  return new Response(body, {
    status,
    headers: { 'content-type': 'application/json', connection: 'close' },
  })
}

// The name of `host:port`, `[v6]:port` or a bare name, lower-cased.
function hostName(host: string): string {
  const value = host.trim().toLowerCase()
  if (value.startsWith('[')) return value.slice(0, value.indexOf(']') + 1)
  const colon = value.indexOf(':')
  return colon === -1 ? value : value.slice(0, colon)
}

const IPV4 = /^\d{1,3}(\.\d{1,3}){3}$/

function isLocal(name: string): boolean {
  return (
    name === 'localhost' ||
    name.endsWith('.localhost') ||
    IPV4.test(name) ||
    (name.startsWith('[') && name.endsWith(']'))
  )
}

type Handler = (request: Request, ...platform: unknown[]) => Response | Promise<Response>
