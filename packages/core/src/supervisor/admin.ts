// The admin port (`adminPort`): the health checks and /metrics on a port of their own, for the
// probes and scrapers that the public port then need not answer. The supervisor accepts its
// connections and pipes each to one ready worker's admin socket, in turn; a worker answers there
// only its operational routes (runtime/operational.ts), for the whole service as on the public
// port. Bytes are piped, not parsed: the worker's HTTP server does the HTTP.
import net from 'node:net'

/** The admin port, once bound. */
export interface AdminServer {
  readonly port: number
  /** Stops listening and ends every connection. */
  close(): void
}

const NO_WORKER = JSON.stringify({ error: 'no worker is ready to answer: try again shortly' })

/**
 * Listens on `host:port` and pipes each connection to the Unix socket `pick()` names, or answers
 * 503 when it names none.
 * @example
 * const admin = await listenAdmin('0.0.0.0', 9090, () => readyWorkerAdminSocket())
 */
export async function listenAdmin(
  host: string,
  port: number,
  pick: () => string | undefined
): Promise<AdminServer> {
  const open = new Set<net.Socket>()
  const track = (socket: net.Socket) => {
    open.add(socket)
    socket.on('close', () => open.delete(socket))
  }
  const server = net.createServer((client) => {
    track(client)
    client.on('error', () => client.destroy())
    const path = pick()
    if (path === undefined) {
      client.end(
        `HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nconnection: close\r\ncontent-length: ${Buffer.byteLength(NO_WORKER)}\r\n\r\n${NO_WORKER}`
      )
      return
    }
    const upstream = net.connect(path)
    track(upstream)
    const end = () => {
      client.destroy()
      upstream.destroy()
    }
    upstream.on('error', end)
    client.on('close', end)
    upstream.on('close', end)
    client.pipe(upstream).pipe(client)
  })
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject)
    server.listen(port, host, () => resolve())
  })
  return {
    port: (server.address() as net.AddressInfo).port,
    close() {
      server.close()
      for (const socket of open) socket.destroy()
    },
  }
}
