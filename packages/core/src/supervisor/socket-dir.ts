// Where bento's Unix sockets live: a fresh directory only this user can enter (mkdtemp makes it
// 0700), under the temporary directory. Linux allows a socket path 107 bytes, macOS 103; a TMPDIR
// too long to leave `room` for the names under it gives way to /tmp, which every Unix has, and so
// does one under /dev (/dev/shm), where Deno refuses sockets to anything short of --allow-all:
// where the temporary directory is never turns a private socket into a TCP port or a failed start.
import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import process from 'node:process'

/** The longest socket path bento makes: under both systems' limits. */
export const MAX_SOCKET_PATH = 100

/**
 * Creates a private directory for sockets whose names, below it, take up to `room` bytes.
 * @example
 * const dir = socketDirectory('/ipc.sock'.length)
 */
export function socketDirectory(room: number): string {
  const fits = (base: string) =>
    Buffer.byteLength(join(base, 'bento-XXXXXX')) + room <= MAX_SOCKET_PATH
  const temporary = tmpdir()
  const usable = fits(temporary) && !temporary.startsWith('/dev/')
  const base = usable || process.platform === 'win32' ? temporary : '/tmp'
  return mkdtempSync(join(base, 'bento-'))
}
