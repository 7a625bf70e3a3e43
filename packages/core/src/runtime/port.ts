// Port checks shared by every runtime adapter, with node:net (which Bun and Deno implement too).
import { readFileSync } from 'node:fs'
import net from 'node:net'
import { BentoConfigError } from '../errors.ts'

/**
 * Binds `host:port` without SO_REUSEPORT and lets it go again, so that a port held by another
 * process fails here, with a clear error, before any worker starts. Port 0 picks a free port.
 * Resolves with the port number.
 * @example
 * const port = await claimPort('127.0.0.1', 0)
 */
export function claimPort(host: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', (error: NodeJS.ErrnoException) => reject(portError(host, port, error)))
    server.listen({ host, port, exclusive: true }, () => {
      const address = server.address()
      const bound = typeof address === 'object' && address !== null ? address.port : port
      server.close(() => resolve(bound))
    })
  })
}

/**
 * The error for a port that can't be bound, naming the port and the fix.
 */
export function portError(host: string, port: number, error: NodeJS.ErrnoException): Error {
  if (error.code === 'EADDRINUSE') {
    return new BentoConfigError({
      field: 'port',
      problem: `${port} is in use on ${host}`,
      fix: `stop the process listening there (see \`ss -ltnp 'sport = :${port}'\`) or choose another port`,
    })
  }
  if (error.code === 'EACCES') {
    return new BentoConfigError({
      field: 'port',
      problem: `${port} on ${host} needs privileges this process lacks`,
      fix: 'use a port above 1023, or grant CAP_NET_BIND_SERVICE',
    })
  }
  if (error.code === 'EADDRNOTAVAIL' || error.code === 'ENOTFOUND') {
    return new BentoConfigError({
      field: 'host',
      problem: `${JSON.stringify(host)} is not an address of this machine`,
      fix: 'use 0.0.0.0 (every interface), 127.0.0.1, or an address this machine has',
    })
  }
  return new Error(`cannot listen on ${host}:${port}: ${error.message}`, { cause: error })
}

const MIGRATE_REQ = '/proc/sys/net/ipv4/tcp_migrate_req'

/**
 * A one-line hint when SO_REUSEPORT listeners will reset queued connections on a rolling restart
 * (Linux's `net.ipv4.tcp_migrate_req` is 0); `undefined` when it is 1 or not Linux.
 * @example
 * const hint = migrateReqHint()
 * if (hint) logger.log('warn', hint)
 */
export function migrateReqHint(path = MIGRATE_REQ): string | undefined {
  let value: string
  try {
    value = readFileSync(path, 'utf8').trim()
  } catch {
    return undefined
  }
  if (value !== '0') return undefined
  return (
    'net.ipv4.tcp_migrate_req is 0: connections waiting on a worker that restarts are reset; ' +
    'run `sysctl -w net.ipv4.tcp_migrate_req=1` (Linux >= 5.14) for restarts without resets'
  )
}
