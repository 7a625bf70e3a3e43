// Who may call a service and what its public port shows: `auth` (bearer tokens), `http.cors`
// (which web pages' scripts), `expose` (metrics and docs), checked with the rules of fields.ts.
import { describe } from '../errors.ts'
import { DEFAULTS } from './defaults.ts'
import { type Fail, integer, settingsObject } from './fields.ts'
import { isEnvSecret, type Secret } from './secret.ts'
import type { ServiceSettings } from './types.ts'

/** The keys of `auth`. */
export const AUTH_KEYS = ['bearer'] as const
/** The keys of `expose`. */
export const EXPOSE_KEYS = ['metrics', 'docs'] as const
/** The keys of `http.cors`. */
export const CORS_KEYS = ['origin', 'credentials', 'headers', 'maxAge'] as const

// What RFC 6750 allows in a bearer token (and Hono's bearerAuth checks): a token with anything
// else could never be sent, so it is refused here rather than locking every caller out.
const TOKEN = /^[A-Za-z0-9._~+/-]+=*$/

/**
 * `auth`, checked: each bearer token a literal of token characters or `env('NAME')`.
 * @example
 * normalizeAuth({ bearer: env('SEARCH_TOKEN') }, fail) // { bearer: [{ env: 'SEARCH_TOKEN' }] }
 */
export function normalizeAuth(value: unknown, fail: Fail): ServiceSettings['auth'] {
  if (value === undefined) return undefined
  const auth = settingsObject(value, 'auth', AUTH_KEYS, fail, "auth: { bearer: env('TOKEN') }")
  const list = Array.isArray(auth.bearer) ? auth.bearer : [auth.bearer]
  if (list.length === 0 || auth.bearer === undefined) {
    fail(
      'auth.bearer',
      `must be a token or a list of them, got ${describe(auth.bearer)}`,
      "write auth: { bearer: env('SEARCH_TOKEN') }"
    )
  }
  for (const [i, token] of list.entries()) {
    if (isEnvSecret(token)) continue
    if (typeof token !== 'string' || !TOKEN.test(token)) {
      fail(
        Array.isArray(auth.bearer) ? `auth.bearer.${i}` : 'auth.bearer',
        typeof token === 'string'
          ? 'must be made of letters, digits and -._~+/ (ending in = at most), as RFC 6750 allows'
          : `must be a string or env('NAME'), got ${describe(token)}`,
        "read it from the environment: bearer: env('SEARCH_TOKEN')"
      )
    }
  }
  return { bearer: list as Secret[] }
}

/**
 * `expose`, checked, with the defaults applied.
 * @example
 * normalizeExpose({ docs: false }, fail) // { metrics: true, docs: false }
 */
export function normalizeExpose(value: unknown, fail: Fail): ServiceSettings['expose'] {
  const expose = settingsObject(value, 'expose', EXPOSE_KEYS, fail, 'expose: { docs: false }')
  const out: ServiceSettings['expose'] = { ...DEFAULTS.expose }
  for (const key of EXPOSE_KEYS) {
    const given = expose[key]
    if (given === undefined) continue
    if (typeof given !== 'boolean') {
      fail(`expose.${key}`, `must be true or false, got ${describe(given)}`, `write ${key}: false`)
    }
    out[key] = given as boolean
  }
  return out
}

/**
 * `http.cors`, checked, with the defaults applied; `undefined` when unset (no CORS headers).
 * @example
 * normalizeCors({ origin: 'https://app.example.com' }, fail)
 */
export function normalizeCors(value: unknown, fail: Fail): ServiceSettings['http']['cors'] {
  if (value === undefined) return undefined
  const example = "cors: { origin: 'https://app.example.com' }"
  const cors = settingsObject(value, 'http.cors', CORS_KEYS, fail, example)
  const origins = Array.isArray(cors.origin) ? cors.origin : [cors.origin]
  for (const origin of origins) {
    if (origin === '*') continue
    if (typeof origin !== 'string' || !isOrigin(origin)) {
      fail(
        'http.cors.origin',
        `must be an origin (scheme://host[:port], nothing after) or '*', got ${describe(origin)}`,
        `write ${example}`
      )
    }
  }
  const credentials = cors.credentials ?? false
  if (typeof credentials !== 'boolean') {
    fail(
      'http.cors.credentials',
      `must be true or false, got ${describe(credentials)}`,
      'leave it out'
    )
  }
  if (credentials && origins.includes('*')) {
    fail(
      'http.cors.origin',
      "is '*' with credentials: true, which browsers refuse (any site could act as the user)",
      'list the origins that may send credentials'
    )
  }
  const headers = cors.headers ?? [...DEFAULTS.cors.headers]
  if (
    !Array.isArray(headers) ||
    headers.some((h) => typeof h !== 'string' || !/^[\w-]+$/.test(h))
  ) {
    fail(
      'http.cors.headers',
      `must be a list of header names, got ${describe(headers)}`,
      "write headers: ['content-type', 'authorization']"
    )
  }
  return {
    origin: origins as string[],
    credentials: credentials as boolean,
    headers: headers as string[],
    maxAge: integer(cors.maxAge, DEFAULTS.cors.maxAge, 0, 'http.cors.maxAge', fail) as number,
  }
}

function isOrigin(value: string): boolean {
  try {
    const url = new URL(value)
    return /^https?:$/.test(url.protocol) && url.origin === value.replace(/\/$/, '')
  } catch {
    return false
  }
}
