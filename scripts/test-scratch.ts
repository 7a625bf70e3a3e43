// The temporary folder of a test run: a fresh folder that every test file and every process the
// tests start gets as TMPDIR, removed when the run ends, so that nothing a test leaves behind
// (the socket folder of a supervisor a test SIGKILLed, which cannot remove it) outlives the run.
//
// It lives on tmpfs (/dev/shm, through a link in /tmp) where there is one and TMPDIR is not set. The suite creates and
// deletes some hundred thousand files (builds with their node_modules, npm installs, sockets), and
// on the CI machines' disk (ext4 without a journal) creating a file among many recently deleted
// ones scans them (the kernel's `recently_deleted`, a third of the suite's system time in
// `perf`): `bento build examples/hello` took 2.5 s of system time in /tmp and 0.45 s in /dev/shm.
import { accessSync, constants, mkdtempSync, rmSync, statSync, symlinkSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'

/** Makes the run's temporary folder, sets TMPDIR to it, and removes it when the process exits. */
export function useScratch(): string {
  const onTmpfs = process.env.TMPDIR === undefined && usable('/dev/shm')
  const dir = mkdtempSync(join(onTmpfs ? '/dev/shm' : tmpdir(), 'bento-tests-'))
  // Reached through a link in /tmp: bento puts no socket under /dev (Deno allows none there short
  // of --allow-all), and through the link the sockets too stay in the run's folder.
  const link = onTmpfs ? join('/tmp', basename(dir)) : undefined
  if (link !== undefined) symlinkSync(dir, link)
  process.env.TMPDIR = link ?? dir
  process.once('exit', () => {
    if (link !== undefined) rmSync(link, { force: true })
    rmSync(dir, { recursive: true, force: true })
  })
  return link ?? dir
}

function usable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
