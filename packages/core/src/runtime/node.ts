// Node: two ways to share the port, measured in docs/architecture.md.
// - round-robin (default): the supervisor accepts every connection and hands it to a ready worker
//   that has taken its last one (handoff.ts), so connections spread evenly even when a client opens
//   only a few, a worker blocked in a handler is skipped after one connection, and while no worker
//   is ready connections wait instead of being refused.
// - shared-socket: the supervisor binds the port and hands the socket to every worker as fd 3;
//   all workers accept from one queue. A blocked worker never takes a connection, but a burst of
//   connections can all go to the same worker.
// Either way a restarting worker loses no queued connection: the queue is the supervisor's.
import { type ChildProcess, fork, spawn as spawnChild } from 'node:child_process'
import { lookup } from 'node:dns/promises'
import { chmodSync } from 'node:fs'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { Agent, createServer, request as httpRequest } from 'node:http'
import net, { type Socket } from 'node:net'
import process from 'node:process'
import { Readable } from 'node:stream'
import { isStreamed } from '../media.ts'
import { listenAndRoute, receiveConnections } from './handoff.ts'
import { CONNECTION_TIMEOUTS } from './limits.ts'
import { claimPort, portError } from './port.ts'
import { processSignal } from './shared.ts'
import type {
  ChildHandle,
  ExitStatus,
  FetchHandler,
  Listener,
  ListenOptions,
  OutgoingCall,
  PortSharing,
  Runtime,
  SharedPort,
  SpawnOptions,
} from './types.ts'

// Node's own listen() uses this backlog; the workers' listen() sets it on the shared socket.
const BACKLOG = 511

// How long a draining worker with no open connection waits for one handed over just before.
const HANDOFF_SETTLE_MS = 100

interface TcpHandle {
  fd: number
  getsockname(out: { port?: number }): number
  close(): void
}

// The process behind each handle, for the round-robin to send connections to.
const processes = new WeakMap<ChildHandle, ChildProcess>()

// node:cluster's own way to get a socket that is bound but not listening: a listening socket in
// the supervisor would be polled by its event loop, which would accept connections and never
// answer them. The first worker's listen() makes it listen; it stays listening while any process
// holds it, so connections queue (rather than being refused) while every worker restarts.
const createServerHandle = (
  net as unknown as {
    _createServerHandle(address: string, port: number, addressType: 4 | 6): TcpHandle | number
  }
)._createServerHandle

async function sharePort(host: string, port: number, sharing: PortSharing): Promise<SharedPort> {
  if (sharing === 'round-robin') {
    const router = await listenAndRoute(host, port, BACKLOG).catch((error) => {
      throw portError(host, port, error)
    })
    return {
      port: router.port,
      fd: undefined,
      admit: (child) => {
        const process = processes.get(child)
        if (process) router.admit(process)
      },
      withdraw: (child) => {
        const process = processes.get(child)
        if (process) router.withdraw(process)
      },
      close: () => router.close(),
    }
  }
  // bind() with SO_REUSEADDR succeeds even on a port another process listens on, so claim the
  // port for real first.
  const claimed = await claimPort(host, port)
  const address = net.isIP(host) ? host : (await lookup(host)).address
  const handle = createServerHandle(address, claimed, net.isIPv6(address) ? 6 : 4)
  if (typeof handle === 'number') {
    const code = handle === -98 ? 'EADDRINUSE' : handle === -13 ? 'EACCES' : 'EADDRNOTAVAIL'
    throw portError(host, claimed, Object.assign(new Error(code), { code }))
  }
  const out: { port?: number } = {}
  handle.getsockname(out)
  return {
    port: out.port ?? claimed,
    fd: handle.fd,
    admit() {},
    withdraw() {},
    close: () => handle.close(),
  }
}

function spawn(options: SpawnOptions): ChildHandle {
  let child: ChildProcess
  if (options.listenFd === undefined) {
    // With an IPC channel, over which the supervisor hands it connections (round-robin).
    child = fork(options.entry, [], {
      execArgv: [...options.execArgv],
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    })
  } else {
    child = spawnChild(process.execPath, [...options.execArgv, options.entry], {
      env: options.env,
      cwd: options.cwd,
      stdio: ['ignore', 'pipe', 'pipe', options.listenFd],
    })
  }
  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('error', (error) => resolve({ code: null, signal: null, error }))
    child.once('exit', (code, signal) => resolve({ code, signal }))
  })
  const handle: ChildHandle = {
    pid: child.pid ?? 0,
    stdout: child.stdout!,
    stderr: child.stderr!,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    exited,
  }
  processes.set(handle, child)
  return handle
}

async function serve(fetch: FetchHandler, options: ListenOptions): Promise<Listener> {
  // Loaded here so that Bun and Deno never load the Node HTTP adapter.
  const { getRequestListener } = await import('@hono/node-server')
  const listener = getRequestListener(fetch)
  // The response in progress on each open connection (HTTP/1.1 answers one request at a time per
  // connection), null when it is idle: a drain closes a connection only once it is idle. One shared
  // 'close' listener per response, no closure: this is on every request's path.
  const sockets = new Map<Socket, ServerResponse | null>()
  let draining = false
  let graceMs = 0
  let drained: (() => void) | undefined
  const closeWhenIdle = (socket: Socket) => {
    setTimeout(() => {
      if (sockets.get(socket) === null) socket.destroy()
    }, graceMs).unref()
  }
  function answered(this: ServerResponse) {
    const socket = this.req.socket
    if (sockets.get(socket) !== this) return
    sockets.set(socket, null)
    if (draining) closeWhenIdle(socket)
  }
  const server = createServer(
    {
      headersTimeout: CONNECTION_TIMEOUTS.headers * 1000,
      // Node checks the headers timeout this often (30 s by default, doubling it).
      connectionsCheckingInterval: 5_000,
    },
    (req: IncomingMessage, res: ServerResponse) => {
      sockets.set(req.socket, res)
      if (draining) res.setHeader('connection', 'close')
      res.on('close', answered)
      listener(req, res)
    }
  )
  server.keepAliveTimeout = CONNECTION_TIMEOUTS.idle * 1000
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, null)
    // Node times out idle connections only after an answer (keepAliveTimeout): one that never
    // sends a request would stay forever. Closed once idle, never under a request in progress.
    socket.setTimeout(CONNECTION_TIMEOUTS.idle * 1000, () => {
      if (sockets.get(socket) === null) socket.destroy()
    })
    socket.once('close', () => {
      sockets.delete(socket)
      if (draining && sockets.size === 0) drained?.()
    })
  })
  let stopReceiving = () => {}
  if (options.handoff) stopReceiving = receiveConnections(server)
  else {
    await new Promise<void>((resolve, reject) => {
      server.once('error', (error: NodeJS.ErrnoException) =>
        reject(portError(options.host, options.port, error))
      )
      const where =
        options.path !== undefined
          ? { path: options.path, backlog: BACKLOG }
          : options.fd === undefined
            ? { host: options.host, port: options.port, backlog: BACKLOG }
            : { fd: options.fd, backlog: BACKLOG }
      server.listen(where, () => resolve())
    })
    if (options.path !== undefined) chmodSync(options.path, 0o600)
  }
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    async close(grace) {
      draining = true
      graceMs = grace
      // The supervisor stopped handing us connections when it asked us to drain; one it sent
      // just before is still answered (with `connection: close`) during the grace period.
      stopReceiving()
      // net.Server's close, not http.Server's: that one also closes every connection without a
      // request in progress at once, including ones just accepted whose request is on its way,
      // which their clients see as a reset. Connections stay open for the grace period instead,
      // and whatever arrives on them is answered with `connection: close`.
      net.Server.prototype.close.call(server)
      for (const [socket, res] of sockets) {
        if (res === null) closeWhenIdle(socket)
        else if (!res.headersSent) res.setHeader('connection', 'close')
      }
      // Open connections get the grace period to send their next request. With none, only a
      // connection the supervisor handed over just before it withdrew us can still come, and its
      // round trip takes far less: an idle worker stops at once.
      const settle = sockets.size === 0 ? Math.min(grace, HANDOFF_SETTLE_MS) : grace
      await new Promise((resolve) => setTimeout(resolve, settle))
      if (sockets.size > 0) {
        await new Promise<void>((resolve) => {
          drained = resolve
        })
      }
    },
  }
}

// One keep-alive agent per socket path. An agent whose worker is gone holds no sockets; a few of
// those are dropped whenever the table grows, rather than tracked.
const agents = new Map<string, Agent>()
const MAX_AGENTS = 256

function agentFor(path: string): Agent {
  let agent = agents.get(path)
  if (agent === undefined) {
    if (agents.size >= MAX_AGENTS) {
      for (const [key, old] of agents) {
        if (Object.keys(old.sockets).length === 0) {
          old.destroy()
          agents.delete(key)
        }
      }
    }
    agent = new Agent({ keepAlive: true })
    agents.set(path, agent)
  }
  return agent
}

function fetchUnix(path: string, call: OutgoingCall): Promise<Response> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        socketPath: path,
        agent: agentFor(path),
        method: call.method,
        path: call.path,
        headers: call.headers,
        ...(call.signal && { signal: call.signal }),
      },
      (res) => {
        const headers = new Headers()
        for (const [key, value] of Object.entries(res.headers)) {
          if (typeof value === 'string') headers.set(key, value)
          else if (Array.isArray(value)) for (const v of value) headers.append(key, v)
        }
        const status = res.statusCode ?? 502
        if (status === 204 || status === 304 || call.method === 'HEAD') {
          res.resume()
          resolve(new Response(null, { status, headers }))
        } else if (isStreamed(res.headers['content-type'] ?? '')) {
          // Handed on as a web stream; any other answer is read whole first, which costs far less
          // on Node than a web stream (most calls answer a little JSON).
          resolve(
            new Response(Readable.toWeb(res) as ReadableStream<Uint8Array>, { status, headers })
          )
        } else {
          const chunks: Buffer[] = []
          res.on('data', (chunk: Buffer) => chunks.push(chunk))
          res.once('end', () => {
            // A Buffer is a Uint8Array; the cast only narrows its ArrayBufferLike for the DOM types.
            const body = (
              chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
            ) as Uint8Array<ArrayBuffer>
            resolve(new Response(body, { status, headers }))
          })
          res.once('error', reject)
        }
      }
    )
    req.once('error', reject)
    req.end(call.body)
  })
}

/**
 * The Node adapter: workers forked with an IPC channel, served connections by the supervisor in
 * turn (or, as `shared-socket`, sharing the supervisor's listening socket).
 * @example
 * const child = nodeRuntime.spawn({ entry: 'worker.js', execArgv: [], env: { ...process.env } })
 */
export const nodeRuntime: Runtime = {
  name: 'node',
  portSharing: ['round-robin', 'shared-socket'],
  sharePort,
  spawn,
  onSignal: processSignal,
  serve,
  fetchUnix,
}
