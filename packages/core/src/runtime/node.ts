// Node: two ways to share the port, measured in docs/architecture.md.
// - round-robin (default): the supervisor is node:cluster's primary. It accepts every connection
//   and hands it to a worker that has taken its last one, so connections spread evenly even when
//   a client opens only a few, and a worker blocked in a handler is skipped after one connection.
// - shared-socket: the supervisor binds the port and hands the socket to every worker as fd 3;
//   all workers accept from one queue. A blocked worker never takes a connection, but a burst of
//   connections can all go to the same worker.
// Either way a restarting worker loses no queued connection: the queue is the supervisor's.
import { spawn as spawnChild } from 'node:child_process'
import cluster from 'node:cluster'
import { lookup } from 'node:dns/promises'
import type { IncomingMessage, ServerResponse } from 'node:http'
import { createServer } from 'node:http'
import net, { type Socket } from 'node:net'
import process from 'node:process'
import { claimPort, portError } from '../port.ts'
import type {
  ChildHandle,
  ExitStatus,
  FetchHandler,
  Listener,
  PortSharing,
  Runtime,
  ServeOptions,
  SharedPort,
  Signal,
  SpawnOptions,
} from './types.ts'

// Node's own listen() uses this backlog; the workers' listen() sets it on the shared socket.
const BACKLOG = 511

interface TcpHandle {
  fd: number
  getsockname(out: { port?: number }): number
  close(): void
}

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
  // bind() with SO_REUSEADDR succeeds even on a port another process listens on, and cluster's
  // primary binds only when the first worker listens, so claim the port for real first.
  const claimed = await claimPort(host, port)
  if (sharing === 'round-robin') return { port: claimed, fd: undefined, close() {} }
  const address = net.isIP(host) ? host : (await lookup(host)).address
  const handle = createServerHandle(address, claimed, net.isIPv6(address) ? 6 : 4)
  if (typeof handle === 'number') {
    const code = handle === -98 ? 'EADDRINUSE' : handle === -13 ? 'EACCES' : 'EADDRNOTAVAIL'
    throw portError(host, claimed, Object.assign(new Error(code), { code }))
  }
  const out: { port?: number } = {}
  handle.getsockname(out)
  return { port: out.port ?? claimed, fd: handle.fd, close: () => handle.close() }
}

function spawn(options: SpawnOptions): ChildHandle {
  let child: ReturnType<typeof spawnChild>
  if (options.listenFd === undefined) {
    // A cluster worker: its listen() joins the primary's round-robin instead of binding.
    cluster.setupPrimary({
      exec: options.entry,
      execArgv: [...options.execArgv],
      args: [],
      cwd: options.cwd,
      silent: true,
    })
    child = cluster.fork(options.env).process
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
  return {
    pid: child.pid ?? 0,
    stdout: child.stdout!,
    stderr: child.stderr!,
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal)
    },
    exited,
  }
}

function onSignal(signal: Signal, handler: () => void): () => void {
  process.on(signal, handler)
  return () => process.off(signal, handler)
}

async function serve(fetch: FetchHandler, options: ServeOptions): Promise<Listener> {
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
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    sockets.set(req.socket, res)
    if (draining) res.setHeader('connection', 'close')
    res.on('close', answered)
    listener(req, res)
  })
  server.on('connection', (socket: Socket) => {
    sockets.set(socket, null)
    socket.once('close', () => {
      sockets.delete(socket)
      if (draining && sockets.size === 0) drained?.()
    })
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(portError(options.host, options.port, error))
    )
    const where =
      options.fd === undefined
        ? { host: options.host, port: options.port, backlog: BACKLOG }
        : { fd: options.fd, backlog: BACKLOG }
    server.listen(where, () => resolve())
  })
  const address = server.address()
  return {
    port: typeof address === 'object' && address !== null ? address.port : options.port,
    async close(grace) {
      draining = true
      graceMs = grace
      // net.Server's close, not http.Server's: that one also closes every connection without a
      // request in progress at once, including ones just accepted whose request is on its way,
      // which their clients see as a reset. Connections stay open for the grace period instead,
      // and whatever arrives on them is answered with `connection: close`.
      net.Server.prototype.close.call(server)
      for (const [socket, res] of sockets) {
        if (res === null) closeWhenIdle(socket)
        else if (!res.headersSent) res.setHeader('connection', 'close')
      }
      const idle =
        sockets.size === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              drained = resolve
            })
      // Under node:cluster, a connection the primary handed over just before it learned of the
      // close is still on its way; exiting before answering it would leave it hanging in the
      // primary. The grace period covers that round trip too.
      await Promise.all([idle, new Promise((resolve) => setTimeout(resolve, grace))])
    },
  }
}

/**
 * The Node adapter: node:cluster workers in a round-robin (or, as `shared-socket`,
 * node:child_process workers sharing the supervisor's listening socket).
 * @example
 * const child = nodeRuntime.spawn({ entry: 'worker.js', execArgv: [], env: { ...process.env } })
 */
export const nodeRuntime: Runtime = {
  name: 'node',
  portSharing: ['round-robin', 'shared-socket'],
  sharePort,
  spawn,
  onSignal,
  serve,
}
