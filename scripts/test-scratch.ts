// The temporary folder of a test run: a fresh folder that every test file and every process the
// tests start gets as TMPDIR, removed when the run ends, so that nothing a test leaves behind
// (the socket folder of a supervisor a test SIGKILLed, which cannot remove it) outlives the run.
//
// It lives on tmpfs (/dev/shm) where there is one and TMPDIR is not set. The suite creates and
// deletes some hundred thousand files (builds with their node_modules, npm installs, sockets), and
// on the CI machines' disk (ext4 without a journal) creating a file among many recently deleted
// ones scans them (the kernel's `recently_deleted`, a third of the suite's system time in
// `perf`): `bento build examples/hello` took 2.5 s of system time in /tmp and 0.45 s in /dev/shm.
import { accessSync, constants, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** Makes the run's temporary folder, sets TMPDIR to it, and removes it when the process exits. */
export function useScratch(): string {
  const base = process.env.TMPDIR === undefined && usable('/dev/shm') ? '/dev/shm' : tmpdir()
  const dir = mkdtempSync(join(base, 'bento-tests-'))
  process.env.TMPDIR = dir
  process.once('exit', () => rmSync(dir, { recursive: true, force: true }))
  return dir
}

function usable(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    return statSync(dir).isDirectory()
  } catch {
    return false
  }
}
