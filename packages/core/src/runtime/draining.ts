// Draining for the SO_REUSEPORT runtimes, whose servers close every idle keep-alive connection the
// moment they stop: for a grace period first, the worker keeps serving and marks each response
// `connection: close`, so that busy keep-alive clients reconnect (to another worker) after their
// current response instead of finding their connection closed under a request they just sent.
import type { FetchHandler } from './types.ts'

type Handler = (request: Request, ...platform: unknown[]) => Response | Promise<Response>

function markClose(response: Response): Response {
  try {
    response.headers.set('connection', 'close')
    return response
  } catch {
    // Immutable headers (a Response from fetch() or Response.redirect()): copy it.
    const copy = new Response(response.body, response)
    copy.headers.set('connection', 'close')
    return copy
  }
}

/** A fetch handler that can be switched to draining. */
export interface DrainingHandler {
  fetch: FetchHandler
  /** From now on every response says `connection: close`. */
  drain(): void
  /** Resolves once no handler call is running (the responses' bodies may still be streaming). */
  idle(): Promise<void>
  /**
   * How long a close keeps the port open: the whole grace when a request arrived within the last
   * `graceMs` (a busy keep-alive client sends its next one within it) or one is running; else
   * SETTLE_MS, for a connection the kernel accepted a moment ago. These servers do not say which
   * connections are open, so recent requests stand for them.
   */
  graceFor(graceMs: number): number
}

/** What a close waits when nothing was asked of the worker within its grace. */
export const SETTLE_MS = 100

/**
 * Wraps `fetch` so that, once `drain()` was called, every response says `connection: close`, and
 * counts the handler calls in progress for `idle()`.
 * @example
 * const handler = drainingHandler(app.fetch)
 * Bun.serve({ fetch: handler.fetch })
 * handler.drain()
 */
export function drainingHandler(fetch: FetchHandler): DrainingHandler {
  let draining = false
  let running = 0
  // When the last handler call began (performance.now()); one store per request.
  let lastRequest = Number.NEGATIVE_INFINITY
  let onIdle: (() => void) | undefined
  const inner = fetch as Handler
  const done = () => {
    running -= 1
    if (running === 0 && onIdle) {
      const resolve = onIdle
      onIdle = undefined
      resolve()
    }
  }
  const finish = (response: Response) => {
    done()
    return draining ? markClose(response) : response
  }
  const wrapped: Handler = (request, ...platform) => {
    running += 1
    lastRequest = performance.now()
    let response: Response | Promise<Response>
    try {
      response = inner(request, ...platform)
    } catch (error) {
      done()
      throw error
    }
    if (response instanceof Response) return finish(response)
    return response.then(finish, (error: unknown) => {
      done()
      throw error
    })
  }
  return {
    fetch: wrapped as FetchHandler,
    drain() {
      draining = true
    },
    idle() {
      if (running === 0) return Promise.resolve()
      return new Promise((resolve) => {
        onIdle = resolve
      })
    },
    graceFor(graceMs) {
      const busy = running > 0 || performance.now() - lastRequest < graceMs
      return busy ? graceMs : Math.min(graceMs, SETTLE_MS)
    },
  }
}

/**
 * Resolves after `ms`.
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}
