// Who may call a service's app: a bearer token (`auth.bearer`) on everything but the health
// checks, which are registered before it so that probes need no token; and, for browsers, the
// pages whose scripts may call it (`http.cors`), answered before the token is asked for, since a
// preflight never carries one.
import type { Service } from '@bento/core'
import { bearerTokens, readEnv, VARS } from '@bento/core/adapter'
import type { Context, MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { timingSafeEqual } from 'hono/utils/buffer'
import { logged } from './access.ts'
import { jsonResponse } from './errors.ts'
import { requestIdOf } from './request.ts'

const BEARER = /^Bearer +([A-Za-z0-9._~+/-]+=*) *$/i

/**
 * The middleware that answers 401 to a request without one of the service's bearer tokens;
 * `undefined` when the service sets no `auth`, or serves only its graph (on a private socket). Reads `env()` tokens now: an unset variable is a
 * `BentoConfigError` before the app serves anything.
 * @example
 * const guard = bearerGuard(service)
 * if (guard) app.use('*', guard)
 */
export function bearerGuard(service: Service<unknown>): MiddlewareHandler | undefined {
  const auth = service.settings.auth
  // A worker that serves only the graph's other services answers to the graph's token instead.
  if (auth === undefined || readEnv(VARS.listen) !== undefined) return undefined
  const tokens = bearerTokens(service)
  return async (c, next) => {
    const given = BEARER.exec(c.req.header('authorization') ?? '')?.[1]
    if (given !== undefined) {
      for (const token of tokens) {
        if (await timingSafeEqual(token, given)) return next()
      }
    }
    return refuse(c, given === undefined)
  }
}

function refuse(c: Context, missing: boolean): Response {
  const requestId = requestIdOf(c)
  const error = missing
    ? `${c.req.path} needs a bearer token: send Authorization: Bearer <token>`
    : 'the bearer token is not one this service accepts'
  const challenge = missing ? 'Bearer' : 'Bearer error="invalid_token"'
  return logged(
    c,
    c.req.path,
    jsonResponse(c, { error, requestId }, 401, {
      'www-authenticate': challenge,
      'x-request-id': requestId,
    }),
    requestId
  )
}

/**
 * Hono's CORS middleware for the service's `http.cors`; `undefined` when it sets none (no CORS
 * headers: browsers then let only the service's own pages read its answers).
 * @example
 * const allow = corsFor(service)
 * if (allow) app.use('*', allow)
 */
export function corsFor(service: Service<unknown>): MiddlewareHandler | undefined {
  const settings = service.settings.http.cors
  if (settings === undefined) return undefined
  const origins = settings.origin
  return cors({
    origin: origins.includes('*') ? '*' : origins,
    credentials: settings.credentials,
    allowHeaders: settings.headers,
    allowMethods: [...new Set(['GET', 'HEAD', ...service.apis.map((api) => api.method)])],
    exposeHeaders: ['x-request-id', 'retry-after'],
    maxAge: settings.maxAge,
  })
}
