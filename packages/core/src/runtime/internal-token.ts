// The graph's own callers and nobody else. Every process of a graph served on one machine gets the
// same random token in its environment (never on disk, never in a manifest); calls between its
// services carry it, and a worker that serves only other services answers 401 to a request
// without it. Its socket is already in a directory only this user can enter: the token is what
// keeps it private where that is not so (TCP on 127.0.0.1, where any local user can connect).

import type { FetchHandler } from './types.ts'

/** The header that carries the graph's token on calls between its services. */
export const INTERNAL_TOKEN_HEADER = 'bento-token'

const REFUSED = JSON.stringify({
  error: `this address serves the services of one bento graph only: a call needs the graph's ${INTERNAL_TOKEN_HEADER} header. Call the service through the graph's public port`,
})

/**
 * Wraps `fetch` so that a request without the graph's `token` in `bento-token` is answered 401.
 * @example
 * await runtime.serve(tokenRequired(app.fetch, token), { host: '127.0.0.1', port: 0 })
 */
export function tokenRequired(fetch: FetchHandler, token: string): FetchHandler {
  const inner = fetch as Handler
  const wrapped: Handler = (request, ...platform) => {
    if (sameText(request.headers.get(INTERNAL_TOKEN_HEADER), token)) {
      return inner(request, ...platform)
    }
    return new Response(REFUSED, {
      status: 401,
      headers: { 'content-type': 'application/json', connection: 'close' },
    })
  }
  return wrapped as FetchHandler
}

// In time that depends on the length only, so that answers don't tell how much of a guess was right.
function sameText(given: string | null, expected: string): boolean {
  if (given === null || given.length !== expected.length) return false
  let diff = 0
  for (let i = 0; i < expected.length; i++) diff |= given.charCodeAt(i) ^ expected.charCodeAt(i)
  return diff === 0
}

type Handler = (request: Request, ...platform: unknown[]) => Response | Promise<Response>
