// Bun: each worker binds the public port itself with SO_REUSEPORT, because Bun.serve can't adopt
// an inherited listening socket (oven-sh/bun#36491 is open). The kernel spreads new connections
// over the workers' own accept queues by a hash of the client address.
import { chmodSync } from 'node:fs'
import process from 'node:process'
import { drainingHandler, sleep } from './draining.ts'
import { CONNECTION_TIMEOUTS } from './limits.ts'
import { processSignal, refuseListenFd, reusePortShare } from './shared.ts'
import type {
  ChildHandle,
  ExitStatus,
  FetchHandler,
  Listener,
  ListenOptions,
  OutgoingCall,
  Runtime,
  SpawnOptions,
} from './types.ts'

interface BunSubprocess {
  pid: number
  stdout: ReadableStream<Uint8Array>
  stderr: ReadableStream<Uint8Array>
  exited: Promise<number>
  exitCode: number | null
  signalCode: string | null
  kill(signal?: string): void
}

interface BunServer {
  port: number | undefined
  stop(closeActiveConnections?: boolean): Promise<void>
  timeout(request: Request, seconds: number): void
}

interface BunGlobal {
  spawn(options: {
    cmd: string[]
    env: Record<string, string>
    cwd?: string
    stdin: 'ignore'
    stdout: 'pipe'
    stderr: 'pipe'
  }): BunSubprocess
  serve(
    options: ({ hostname: string; port: number; reusePort: boolean } | { unix: string }) & {
      idleTimeout: number
      fetch: (request: Request, server: BunServer) => Response | Promise<Response>
    }
  ): BunServer
}

function bun(): BunGlobal {
  return (globalThis as unknown as { Bun: BunGlobal }).Bun
}

function spawn(options: SpawnOptions): ChildHandle {
  refuseListenFd('Bun', options)
  const child = bun().spawn({
    cmd: [process.execPath, ...options.execArgv, options.entry],
    env: options.env,
    cwd: options.cwd,
    stdin: 'ignore',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const exited = child.exited.then(
    (): ExitStatus => ({
      code: child.signalCode ? null : child.exitCode,
      signal: child.signalCode ?? null,
    })
  )
  return {
    pid: child.pid,
    stdout: child.stdout as unknown as AsyncIterable<Uint8Array>,
    stderr: child.stderr as unknown as AsyncIterable<Uint8Array>,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    exited,
  }
}

async function serve(fetch: FetchHandler, options: ListenOptions): Promise<Listener> {
  if (options.fd !== undefined) {
    throw new Error('Bun.serve cannot listen on an inherited socket (oven-sh/bun#36491)')
  }
  const handler = drainingHandler(fetch)
  const inner = handler.fetch as (
    request: Request,
    server: BunServer
  ) => Response | Promise<Response>
  const idle = CONNECTION_TIMEOUTS.idle
  // Bun's idle timer also runs while a handler works, and resets a request whose handler takes
  // longer than it (10 s by default) although the API's own timeout allows more: it is off while
  // the handler runs, and back for the connection once the answer is ready.
  const timed = (request: Request, server: BunServer) => {
    server.timeout(request, 0)
    const done = (response: Response) => {
      server.timeout(request, idle)
      return response
    }
    const response = inner(request, server)
    return response instanceof Response ? done(response) : response.then(done)
  }
  const where =
    options.path !== undefined
      ? { unix: options.path }
      : { hostname: options.host, port: options.port, reusePort: options.reusePort ?? false }
  const server = bun().serve({ ...where, idleTimeout: idle, fetch: timed })
  if (options.path !== undefined) chmodSync(options.path, 0o600)
  return {
    port: server.port ?? 0,
    async close(graceMs) {
      handler.drain()
      // An idle worker (nothing asked within the grace) closes after a moment, not the grace.
      await sleep(handler.graceFor(graceMs))
      // stop(false) stops accepting, lets requests in flight finish and closes idle keep-alive
      // connections; it resolves once every connection is gone.
      await server.stop(false)
    },
  }
}

// Bun's fetch speaks HTTP over a Unix socket itself, and pools its connections.
function fetchUnix(path: string, call: OutgoingCall): Promise<Response> {
  return fetch(`http://localhost${call.path}`, {
    unix: path,
    method: call.method,
    headers: call.headers,
    body: call.body,
    signal: call.signal,
  } as RequestInit)
}

/**
 * The Bun adapter: `Bun.spawn` workers, each serving the port with `Bun.serve({ reusePort })`.
 * @example
 * const listener = await bunRuntime.serve(app.fetch, { host: '127.0.0.1', port: 3000, reusePort: true })
 */
export const bunRuntime: Runtime = {
  name: 'bun',
  portSharing: ['reuseport'],
  sharePort: reusePortShare,
  spawn,
  onSignal: processSignal,
  serve,
  fetchUnix,
}
