// The supervisor and its workers talk over one Unix domain socket: newline-delimited JSON, with
// node:net on every runtime (Bun and Deno implement it). A socket rather than each runtime's own
// IPC channel: one implementation, and the kernel closes it when the supervisor dies, even by
// SIGKILL, which is how workers learn to stop.
import { chmodSync, rmSync } from 'node:fs'
import net from 'node:net'
import { join } from 'node:path'
import { lineSplitter } from './lines.ts'
import type { SupervisorMessage, WorkerMessage } from './protocol.ts'
import { socketDirectory } from './socket-dir.ts'

/** One end of a connection: typed messages in and out. */
export interface Channel<In, Out> {
  /** Resolves once the message is handed to the kernel (or the channel is closed). */
  send(message: Out): Promise<void>
  onMessage(handler: (message: In) => void): void
  /** Called once, when the other end goes away or `close()` is called. */
  onClose(handler: () => void): void
  close(): void
  readonly closed: boolean
}

// Gather answers (metrics snapshots) can be large, but not this large.
const MAX_LINE = 64 << 20

/**
 * Wraps a connected socket as a channel of newline-delimited JSON messages.
 * @example
 * const ch = channel<SupervisorMessage, WorkerMessage>(net.connect(path))
 */
export function channel<In, Out>(socket: net.Socket): Channel<In, Out> {
  const handlers: ((message: In) => void)[] = []
  const closers: (() => void)[] = []
  let closed = false
  const split = lineSplitter((line) => {
    if (line === '') return
    let message: In
    try {
      message = JSON.parse(line) as In
    } catch {
      return // Not ours; a peer must never break the other end with a bad line.
    }
    for (const handler of handlers) handler(message)
  }, MAX_LINE)
  socket.setEncoding('utf8')
  socket.on('data', (text: string) => split.push(text))
  socket.on('error', () => {
    // 'close' follows; an unreachable peer is the same as a closed one here.
  })
  socket.on('close', () => {
    if (closed) return
    closed = true
    for (const closer of closers) closer()
  })
  return {
    send(message) {
      if (closed || socket.destroyed) return Promise.resolve()
      return new Promise((resolve) => {
        socket.write(`${JSON.stringify(message)}\n`, () => resolve())
      })
    },
    onMessage(handler) {
      handlers.push(handler)
    },
    onClose(handler) {
      closers.push(handler)
    },
    close() {
      socket.end()
      socket.destroySoon()
    },
    get closed() {
      return closed
    },
  }
}

/** The supervisor's listening IPC socket. */
export interface IpcServer {
  /** Passed to workers as `BENTO_IPC`. */
  readonly path: string
  /** Stops listening and removes the socket and its directory. */
  close(): void
}

/**
 * Listens on a fresh socket in a directory only this user can enter (`socketDirectory`), with
 * mode 0600, and calls `onConnection` for each worker that connects.
 * @example
 * const ipc = await listenIpc((ch) => ch.onMessage((m) => console.log(m)))
 */
export async function listenIpc(
  onConnection: (ch: Channel<WorkerMessage, SupervisorMessage>) => void
): Promise<IpcServer> {
  // The directory is 0700, so nobody else can reach the socket even before chmod.
  const dir = socketDirectory('/ipc.sock'.length)
  const path = join(dir, 'ipc.sock')
  const server = net.createServer((socket) => onConnection(channel(socket)))
  const sockets = new Set<net.Socket>()
  server.on('connection', (socket) => {
    sockets.add(socket)
    socket.on('close', () => sockets.delete(socket))
  })
  try {
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(path, () => resolve())
    })
    chmodSync(path, 0o600)
  } catch (error) {
    rmSync(dir, { recursive: true, force: true })
    throw error
  }
  return {
    path,
    close() {
      server.close()
      for (const socket of sockets) socket.destroy()
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/**
 * Connects a worker to its supervisor's socket.
 */
export function connectIpc(path: string): Promise<Channel<SupervisorMessage, WorkerMessage>> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(path)
    socket.once('error', reject)
    socket.once('connect', () => {
      socket.off('error', reject)
      resolve(channel(socket))
    })
  })
}
