// Deno: each worker binds the public port itself with SO_REUSEPORT (`--unstable-net`), because
// Deno can't listen on an inherited socket (denoland/deno#6529). Same trade-offs as Bun.
import { VARS } from '../vars.ts'
import { drainingHandler, sleep } from './draining.ts'
import { refuseListenFd, reusePortShare } from './shared.ts'
import type {
  ChildHandle,
  ExitStatus,
  FetchHandler,
  Listener,
  ListenOptions,
  OutgoingCall,
  Runtime,
  Signal,
  SpawnOptions,
} from './types.ts'

interface DenoChild {
  pid: number
  stdout: ReadableStream<Uint8Array>
  stderr: ReadableStream<Uint8Array>
  status: Promise<{ code: number; signal: string | null }>
  kill(signal?: string): void
}

interface DenoServer {
  addr: { port?: number }
  shutdown(): Promise<void>
}

interface DenoGlobal {
  execPath(): string
  Command: new (
    command: string,
    options: {
      args: string[]
      env: Record<string, string>
      clearEnv: boolean
      cwd?: string
      stdin: 'null'
      stdout: 'piped'
      stderr: 'piped'
    }
  ) => { spawn(): DenoChild }
  serve(
    options:
      | { hostname: string; port: number; reusePort: boolean; onListen(): void }
      | { path: string; transport: 'unix'; onListen(): void },
    handler: FetchHandler
  ): DenoServer
  chmodSync(path: string, mode: number): void
  createHttpClient(options: { proxy: { transport: 'unix'; path: string } }): { close(): void }
  addSignalListener(signal: Signal, handler: () => void): void
  removeSignalListener(signal: Signal, handler: () => void): void
}

function deno(): DenoGlobal {
  return (globalThis as unknown as { Deno: DenoGlobal }).Deno
}

function spawn(options: SpawnOptions): ChildHandle {
  refuseListenFd('Deno', options)
  const child = new (deno().Command)(deno().execPath(), {
    // --unstable-no-legacy-abort: a request's signal aborts only when its client goes away, not
    // also after every successful response (Deno 2.9 warns about the legacy behaviour otherwise).
    args: [
      'run',
      ...workerPermissions(options.env, options.execArgv),
      '--unstable-net',
      '--unstable-no-legacy-abort',
      ...options.execArgv,
      options.entry,
    ],
    env: options.env,
    clearEnv: true,
    cwd: options.cwd,
    stdin: 'null',
    stdout: 'piped',
    stderr: 'piped',
  }).spawn()
  let done = false
  const exited = child.status.then((status): ExitStatus => {
    done = true
    return { code: status.signal ? null : status.code, signal: status.signal }
  })
  return {
    pid: child.pid,
    stdout: child.stdout as unknown as AsyncIterable<Uint8Array>,
    stderr: child.stderr as unknown as AsyncIterable<Uint8Array>,
    kill: (signal) => {
      if (done) return
      try {
        child.kill(signal)
      } catch {
        // It exited between the check and the kill.
      }
    },
    exited,
  }
}

// What a worker may do, rather than --allow-all: read files (modules and models load from
// anywhere the project is), use the network (its port, its dependencies), read the environment and
// the system's figures; write only where its graph's sockets are; no subprocesses, no
// FFI. A service widens this with `deno: { allow: [...] }`, which comes after these in execArgv.
// The deployment process keeps --allow-all: it must load the entry to learn what the services ask
// for, it runs onDeployment (a download, a migration) once, and it never takes a request.
function workerPermissions(env: Record<string, string>, asked: readonly string[]): string[] {
  if (env[VARS.role] === 'deploy') return ['--allow-all']
  // Deno unites --allow-write=a with --allow-write=b, but a bare --allow-write beside a scoped one
  // counts as the scoped one only: a service asking to write anywhere gets just that.
  const writeAnywhere = asked.includes('--allow-write')
  const dirs = new Set<string>()
  const ipc = env[VARS.ipc]
  if (ipc !== undefined) dirs.add(dirname(ipc))
  // Its graph's sockets: its own, and its dependencies' (connecting to one is a write for Deno).
  const sockets = env[VARS.socketDir]
  if (sockets !== undefined) dirs.add(sockets)
  return [
    '--allow-read',
    '--allow-net',
    '--allow-env',
    '--allow-sys',
    ...(dirs.size > 0 && !writeAnywhere ? [`--allow-write=${[...dirs].join(',')}`] : []),
  ]
}

function dirname(path: string): string {
  return path.slice(0, Math.max(path.lastIndexOf('/'), path.lastIndexOf('\\')))
}

function onSignal(signal: Signal, handler: () => void): () => void {
  deno().addSignalListener(signal, handler)
  return () => deno().removeSignalListener(signal, handler)
}

async function serve(fetch: FetchHandler, options: ListenOptions): Promise<Listener> {
  if (options.fd !== undefined) {
    throw new Error('Deno cannot listen on an inherited socket (denoland/deno#6529)')
  }
  const handler = drainingHandler(fetch)
  const where =
    options.path !== undefined
      ? { path: options.path, transport: 'unix' as const }
      : { hostname: options.host, port: options.port, reusePort: options.reusePort ?? false }
  // Deno prints "Listening on ..." unless told otherwise; the supervisor says it once.
  const server = deno().serve({ ...where, onListen() {} }, handler.fetch)
  if (options.path !== undefined) deno().chmodSync(options.path, 0o600)
  return {
    port: server.addr.port ?? 0,
    async close(graceMs) {
      handler.drain()
      // An idle worker (nothing asked within the grace) closes after a moment, not the grace.
      await sleep(handler.graceFor(graceMs))
      // Deno 2.9's shutdown() makes the bodies of requests in flight unreadable
      // (denoland/deno#36809), so it waits for a moment when no handler runs; the port still
      // takes connections meanwhile, answered with `connection: close`.
      await handler.idle()
      // shutdown() stops accepting, lets responses finish and closes the other connections,
      // including accepted ones whose first request it has not read yet (denoland/deno#31959):
      // those are reset, a few per restart under load.
      await server.shutdown()
    },
  }
}

// One HTTP client per socket path, as Deno's fetch reaches a Unix socket through a client.
const clients = new Map<string, { close(): void }>()

function fetchUnix(path: string, call: OutgoingCall): Promise<Response> {
  let client = clients.get(path)
  if (client === undefined) {
    client = deno().createHttpClient({ proxy: { transport: 'unix', path } })
    clients.set(path, client)
  }
  return fetch(`http://localhost${call.path}`, {
    client,
    method: call.method,
    headers: call.headers,
    body: call.body,
    signal: call.signal,
  } as RequestInit)
}

/**
 * The Deno adapter: `Deno.Command` workers, each serving the port with `Deno.serve({ reusePort })`.
 * @example
 * const listener = await denoRuntime.serve(app.fetch, { host: '0.0.0.0', port: 3000 })
 */
export const denoRuntime: Runtime = {
  name: 'deno',
  portSharing: ['reuseport'],
  sharePort: reusePortShare,
  spawn,
  onSignal,
  serve,
  fetchUnix,
}
