// Node's round-robin, owned by bento: the supervisor accepts every connection on the public port
// and hands it to a ready worker over that worker's IPC channel (the mechanism node:cluster uses).
// Owning it fixes what node:cluster gets wrong for a supervisor that restarts workers:
// - when every worker is down at once (all killed, or the last one restarting), node:cluster
//   closes the listening socket, so new connections are refused, and connections it had queued
//   can be left hanging; here the port keeps listening and connections wait for the first worker
//   that is ready again;
// - a worker gets connections only once it is ready and stops getting them the moment it starts
//   draining, as the supervisor decides, not when the worker's own listen()/close() gets through.
// A worker takes one connection at a time, as in node:cluster: the next goes to it only after it
// acknowledged the last, so a worker blocked in a handler is skipped after one connection. The
// supervisor keeps its own copy of a connection until that acknowledgement (closing one of two
// descriptors of a socket sends nothing to the client): if the worker dies before it took the
// connection, the connection goes to another worker instead of hanging.
import type { ChildProcess } from 'node:child_process'
import type { Server as HttpServer } from 'node:http'
import net, { type Socket } from 'node:net'
import process from 'node:process'

/** The message that carries a connection to a worker. */
export const HANDOFF = 'bento:connection'
/** A worker's reply: it took the connection and can take another. */
export const ACCEPTED = 'bento:accepted'

// Connections waiting while no worker is ready: bounded in count, and in time by the caller (the
// supervisor restarts the last worker at once).
const MAX_WAITING = 4096
const MAX_WAIT_MS = 30_000

interface Waiting {
  socket: Socket
  since: number
}

/**
 * The supervisor side: a listening socket whose connections go to admitted workers in turn.
 * @example
 * const router = await listenAndRoute('0.0.0.0', 3000)
 * router.admit(child) // once the worker is ready
 */
export class Router {
  private readonly ready: ChildProcess[] = []
  private readonly busy = new Map<ChildProcess, number>()
  /** Connections sent to each worker that it has not acknowledged yet, oldest first. */
  private readonly inTransit = new Map<ChildProcess, Socket[]>()
  private readonly waiting: Waiting[] = []
  private next = 0
  private sweeper: ReturnType<typeof setInterval> | undefined

  constructor(private readonly server: net.Server) {
    server.on('connection', (socket: Socket) => this.route(socket))
  }

  get port(): number {
    const address = this.server.address()
    return typeof address === 'object' && address !== null ? address.port : 0
  }

  /** `child` is ready: from now on it gets connections. */
  admit(child: ChildProcess): void {
    if (this.ready.includes(child)) return
    this.ready.push(child)
    this.busy.set(child, 0)
    const onMessage = (message: unknown) => {
      if (message !== ACCEPTED) return
      // The worker has the connection: our copy goes.
      this.inTransit.get(child)?.shift()?.destroy()
      this.busy.set(child, Math.max(0, (this.busy.get(child) ?? 1) - 1))
      this.flush()
    }
    child.on('message', onMessage)
    child.once('exit', () => {
      child.off('message', onMessage)
      this.withdraw(child)
      // A connection still queued for a worker that died never reached it: it is still ours
      // (still open), so it goes to another worker rather than hang.
      const stranded = this.inTransit.get(child) ?? []
      this.inTransit.delete(child)
      for (const socket of stranded) if (!socket.destroyed) this.route(socket)
    })
    this.flush()
  }

  /** `child` drains or is gone: it gets no more connections. */
  withdraw(child: ChildProcess): void {
    const at = this.ready.indexOf(child)
    if (at !== -1) this.ready.splice(at, 1)
    this.busy.delete(child)
  }

  close(): void {
    clearInterval(this.sweeper)
    this.server.close()
    for (const { socket } of this.waiting.splice(0)) socket.destroy()
    for (const sockets of this.inTransit.values()) for (const socket of sockets) socket.destroy()
    this.inTransit.clear()
  }

  private route(socket: Socket): void {
    socket.on('error', () => {}) // A client that resets while its connection waits.
    if (this.waiting.length > 0 || !this.send(socket)) this.wait(socket)
  }

  private wait(socket: Socket): void {
    if (this.waiting.length >= MAX_WAITING) {
      socket.destroy()
      return
    }
    this.waiting.push({ socket, since: Date.now() })
    this.sweeper ??= setInterval(() => this.sweep(), 1000)
  }

  // A free ready worker in turn, or none.
  private pick(): ChildProcess | undefined {
    const count = this.ready.length
    for (let i = 0; i < count; i++) {
      const child = this.ready[(this.next + i) % count]!
      if (this.busy.get(child) === 0 && child.connected) {
        this.next = (this.next + i + 1) % count
        return child
      }
    }
    return undefined
  }

  private send(socket: Socket): boolean {
    const child = this.pick()
    if (child === undefined) return false
    this.busy.set(child, 1)
    const transit = this.inTransit.get(child) ?? []
    this.inTransit.set(child, transit)
    transit.push(socket)
    child.send(HANDOFF, socket, { keepOpen: true }, (error) => {
      if (!error) return
      // The worker went away between the pick and the send: the connection is still ours.
      const at = transit.indexOf(socket)
      if (at !== -1) transit.splice(at, 1)
      this.withdraw(child)
      if (!socket.destroyed) this.route(socket)
    })
    return true
  }

  private flush(): void {
    while (this.waiting.length > 0) {
      const { socket } = this.waiting[0]!
      if (socket.destroyed) {
        this.waiting.shift()
        continue
      }
      if (!this.send(socket)) return
      this.waiting.shift()
    }
  }

  private sweep(): void {
    const now = Date.now()
    while (this.waiting.length > 0 && now - this.waiting[0]!.since > MAX_WAIT_MS) {
      this.waiting.shift()!.socket.destroy()
    }
    if (this.waiting.length === 0) {
      clearInterval(this.sweeper)
      this.sweeper = undefined
    }
  }
}

/**
 * Listens on `host:port` for the supervisor, pausing each connection so that nothing is read
 * before a worker has it.
 * @example
 * const router = await listenAndRoute('127.0.0.1', 0)
 */
export async function listenAndRoute(host: string, port: number, backlog = 511): Promise<Router> {
  const server = net.createServer({ pauseOnConnect: true })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen({ host, port, backlog }, () => {
      server.off('error', reject)
      resolve()
    })
  })
  return new Router(server)
}

/**
 * The worker side: serves every connection the supervisor hands over with `server`, and tells the
 * supervisor it can take another.
 */
export function receiveConnections(server: HttpServer): () => void {
  const onMessage = (message: unknown, socket: unknown) => {
    if (message !== HANDOFF || !(socket instanceof net.Socket)) return
    server.emit('connection', socket)
    process.send?.(ACCEPTED)
  }
  process.on('message', onMessage)
  return () => process.off('message', onMessage)
}
