// Where this process sends calls to each service it depends on, by the service's name. In order:
// an address from $BENTO_DEPENDS (the operator's word), the `url` the code gave, the workers bento
// serves on this machine ($BENTO_PEERS names them; the supervisor says where they are), an app in
// this process when the user opted in; else the call fails saying how to give it an address.
// Never a silent fallback to running the dependency in-process. Kept on globalThis under a
// registered symbol so that two copies of @bento/core share it.
import { readEnv } from '../env.ts'
import { BentoConfigError } from '../errors.ts'
import { INTERNAL_TOKEN_HEADER } from '../runtime/internal-token.ts'
import type { OutgoingCall } from '../runtime/types.ts'
import { checkUrl } from '../service/depends.ts'
import type { ResolvedDependency } from '../service/types.ts'
import { VARS } from '../vars.ts'
import { type Answer, type CallRequest, httpAnswer } from './answer.ts'
import type { Target } from './call.ts'
import { CallError } from './errors.ts'
import { httpRequestOf } from './http.ts'
import { type LocalApi, localCallOf, outcomeAnswer } from './local.ts'
import { EndpointPool } from './pool.ts'
import { DependencyStats } from './stats.ts'

type UnixFetch = (path: string, call: OutgoingCall) => Promise<Response>
type FrameSend = (path: string, token: string, call: CallRequest) => Promise<Answer>

interface Registry {
  pools: Map<string, EndpointPool>
  urls: Map<string, Target>
  /** By calling service: the dependencies it opted to call in this process. */
  inProcess: WeakMap<object, Map<string, Target>>
  unixFetch: UnixFetch | undefined
  frameSend: FrameSend | undefined
  stats: DependencyStats
  /** $BENTO_DEPENDS and $BENTO_PEERS, read once. */
  env: { depends: Map<string, string>; peers: Set<string> } | undefined
}

const KEY = Symbol.for('bento.dependencies')

function registry(): Registry {
  const g = globalThis as { [KEY]?: Registry }
  g[KEY] ??= {
    pools: new Map(),
    urls: new Map(),
    inProcess: new WeakMap(),
    unixFetch: undefined,
    frameSend: undefined,
    stats: new DependencyStats(),
    env: undefined,
  }
  return g[KEY]
}

/**
 * Parses `BENTO_DEPENDS` (`name=url,name=url`) into a table; a `BentoConfigError` naming the bad
 * entry otherwise.
 * @example
 * parseDependsVar('embedder=http://embedder:3000') // Map { 'embedder' => 'http://embedder:3000' }
 */
export function parseDependsVar(
  value: string | undefined,
  field: string = VARS.depends
): Map<string, string> {
  const table = new Map<string, string>()
  for (const entry of (value ?? '').split(',')) {
    const text = entry.trim()
    if (text === '') continue
    const eq = text.indexOf('=')
    const name = text.slice(0, eq).trim()
    if (eq <= 0 || !/^[a-z0-9][a-z0-9._-]*$/.test(name)) {
      throw new BentoConfigError({
        field,
        problem: `has the entry ${JSON.stringify(text)}, which is not name=url`,
        fix: 'write the service name, "=", and its base URL: embedder=http://embedder:3000',
      })
    }
    table.set(name, checkUrl(text.slice(eq + 1).trim(), `${field} ${name}`))
  }
  return table
}

function fromEnv(): NonNullable<Registry['env']> {
  const r = registry()
  r.env ??= {
    depends: parseDependsVar(readEnv(VARS.depends)),
    peers: new Set((readEnv(VARS.peers) ?? '').split(',').filter(Boolean)),
  }
  return r.env
}

/**
 * Where the ready workers of `service` are (the supervisor says so as they change).
 */
export function setPeers(service: string, endpoints: readonly string[]): void {
  poolOf(service).update(endpoints)
}

/**
 * Resolves once every dependency served on this machine ($BENTO_PEERS) has a ready worker: a
 * worker of a graph says it is ready only then, though every tier starts at once.
 */
export function peersReachable(): Promise<void> {
  return Promise.all([...fromEnv().peers].map((name) => poolOf(name).reachable())).then(() => {})
}

/**
 * How this runtime reaches a Unix socket; set by the worker runtime.
 */
export function setUnixFetch(fetch: UnixFetch): void {
  registry().unixFetch = fetch
}

/**
 * How this runtime sends a call over a worker's framed socket; set by the worker runtime.
 */
export function setFrameSend(send: FrameSend): void {
  registry().frameSend = send
}

/**
 * Calls from `caller` to `service` go straight to the local APIs `apis()` returns (made on the
 * first call): what `toHono(caller, { dependencies: 'in-process' })` asks for (for that caller only).
 * @example
 * callInProcess(search, 'embedder', () => localApisOf('embedder')!)
 */
export function callInProcess(
  caller: object,
  service: string,
  apis: () => ReadonlyMap<string, LocalApi>
): void {
  const { inProcess } = registry()
  let table = inProcess.get(caller)
  if (table === undefined) {
    table = new Map()
    inProcess.set(caller, table)
  }
  table.set(service, {
    service,
    async send(call) {
      const api = apis().get(call.api.name)
      if (api === undefined) {
        throw new CallError({
          service,
          api: call.api.name,
          status: 404,
          message: `the service "${service}" has no API "${call.api.name}"`,
        })
      }
      return outcomeAnswer(await api(localCallOf(call)))
    },
  })
}

/**
 * This worker's dependency call figures, for `/metrics`.
 */
export function dependencyStats(): DependencyStats {
  return registry().stats
}

function poolOf(service: string): EndpointPool {
  const r = registry()
  let pool = r.pools.get(service)
  if (pool === undefined) {
    // The graph's token goes to its own workers only, never to a `url` dependency.
    const token = readEnv(VARS.internalToken)
    pool = new EndpointPool(service, async (endpoint, call) => {
      if (endpoint.startsWith('frames:')) {
        if (r.frameSend === undefined || token === undefined) {
          throw new Error(`no way to reach ${endpoint} from this process`)
        }
        return r.frameSend(endpoint.slice('frames:'.length), token, call)
      }
      const request = httpRequestOf(call)
      if (token !== undefined) request.headers[INTERNAL_TOKEN_HEADER] = token
      if (endpoint.startsWith('unix:')) {
        const unix = r.unixFetch
        if (unix === undefined) throw new Error(`no way to reach ${endpoint} from this runtime`)
        return httpAnswer(await unix(endpoint.slice('unix:'.length), request))
      }
      return httpAnswer(await fetchEndpoint(endpoint, request))
    })
    r.pools.set(service, pool)
  }
  return pool
}

// A worker of the graph on a port of 127.0.0.1 (where there are no Unix sockets).
function fetchEndpoint(base: string, call: OutgoingCall): Promise<Response> {
  return fetch(`${base.replace(/\/+$/, '')}${call.path}`, {
    method: call.method,
    headers: call.headers,
    ...(call.body !== undefined && { body: call.body }),
    ...(call.signal && { signal: call.signal }),
  })
}

/** The most a dependency served elsewhere may answer in one body (streams are read as they come). */
export const REMOTE_ANSWER_LIMIT = 64 * 2 ** 20

/**
 * A target that sends to the base URL `url`, with `headers` (over `$BENTO_DEPENDS_TOKEN`'s
 * bearer token). Its answers are not trusted like the graph's own: a redirect is not followed
 * (it would take the call, and its headers, wherever the answer says) and a body over
 * `REMOTE_ANSWER_LIMIT` fails the call with a 502.
 * @example
 * const target = urlTarget('embedder', 'http://embedder:3000')
 */
export function urlTarget(
  service: string,
  url: string,
  headers: Readonly<Record<string, string>> = {}
): Target {
  const token = readEnv(VARS.dependsToken)
  const own = { ...(token !== undefined && { authorization: `Bearer ${token}` }), ...headers }
  const base = url.replace(/\/+$/, '')
  const tooLarge = () =>
    new CallError({
      service,
      api: '',
      status: 502,
      message: `${service} answered more than ${REMOTE_ANSWER_LIMIT} bytes, the most bento reads from a dependency served elsewhere`,
    })
  return {
    service,
    async send(call) {
      const request = httpRequestOf(call)
      const response = await fetch(`${base}${request.path}`, {
        method: request.method,
        headers: { ...request.headers, ...own },
        ...(request.body !== undefined && { body: request.body }),
        signal: call.signal,
        redirect: 'manual',
      })
      if (response.status >= 300 && response.status < 400 && response.status !== 304) {
        await response.body?.cancel().catch(() => {})
        const location = response.headers.get('location')
        throw new CallError({
          service,
          api: '',
          status: 502,
          message: `${service} answered ${response.status}, redirecting${location ? ` to ${location.slice(0, 200)}` : ''}: calls to a dependency don't follow redirects; give it the address it answers at`,
        })
      }
      return httpAnswer(response, REMOTE_ANSWER_LIMIT, tooLarge)
    },
  }
}

// A callee that requires a bearer token (`auth: { bearer: env('TOKEN') }`) gets its first one
// from the caller's own environment, where `bento build` puts it too, unless the dependency sets
// its own `authorization`.
function withBearer(
  dependency: Partial<ResolvedDependency> | undefined
): Readonly<Record<string, string>> | undefined {
  const headers = dependency?.headers
  const secret = dependency?.service?.settings.auth?.bearer[0]
  if (secret === undefined) return headers
  if (
    headers !== undefined &&
    Object.keys(headers).some((h) => h.toLowerCase() === 'authorization')
  ) {
    return headers
  }
  const token = typeof secret === 'string' ? secret : readEnv(secret.env)
  return token === undefined ? headers : { ...headers, authorization: `Bearer ${token}` }
}

/**
 * Where calls from `caller` to `service` go from this process (see the module comment for the
 * order); a target whose every call fails with a 503 naming the fix when it has no address.
 * @example
 * const target = targetFor('embedder', undefined, search)
 */
export function targetFor(
  service: string,
  dependency:
    | (Pick<ResolvedDependency, 'url' | 'headers'> & Partial<ResolvedDependency>)
    | undefined,
  caller?: object
): Target {
  const r = registry()
  const env = fromEnv()
  const url = env.depends.get(service) ?? dependency?.url
  if (url !== undefined) {
    const headers = withBearer(dependency)
    const key = headers === undefined ? url : `${url} ${JSON.stringify(headers)}`
    let target = r.urls.get(key)
    if (target === undefined) {
      target = urlTarget(service, url, headers)
      r.urls.set(key, target)
    }
    return target
  }
  if (env.peers.has(service) || r.pools.has(service)) return poolOf(service)
  const local = caller === undefined ? undefined : r.inProcess.get(caller)?.get(service)
  if (local !== undefined) return local
  return {
    service,
    send: () =>
      Promise.reject(
        new CallError({
          service,
          api: '',
          status: 503,
          message: `no address for the dependency "${service}": serve the graph with bento serve (which serves it too), give it one with depends(${service}, { url }) or ${VARS.depends}=${service}=http://host:port, or, outside bento serve, opt into calling it in this process with toHono(service, { dependencies: 'in-process' })`,
        })
      ),
  }
}
