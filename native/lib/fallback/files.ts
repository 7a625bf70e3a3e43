import { readFileSync } from 'node:fs'

/** Reads a file by the path a real process would use; `null` when it is missing or unreadable. */
export type ReadFile = (path: string) => string | null

/**
 * Returns a reader that resolves every path under `root`, so a fixture tree answers as `/` would.
 *
 * Callers keep using and reporting the real paths (`/proc/self/cgroup`); only the read moves.
 * @example
 * const read = readerUnder('/tmp/fixture')
 * read('/proc/self/cgroup') // contents of /tmp/fixture/proc/self/cgroup, or null
 */
export function readerUnder(root: string): ReadFile {
  // With root `/` the prefix is empty, so the real paths are read untouched.
  const prefix = root.replace(/\/+$/, '')
  return (path) => {
    try {
      return readFileSync(prefix + path, 'utf8')
    } catch {
      return null
    }
  }
}

/**
 * Reads and parses a file; `null` when it is missing, unreadable, or its contents don't parse.
 *
 * The probe sizes worker pools, so one odd kernel file must cost that one figure, not the answer.
 * @example
 * readWith(read, '/sys/devices/system/cpu/online', countCpuList) // 8, or null
 */
export function readWith<T>(read: ReadFile, path: string, parse: (text: string) => T): T | null {
  const text = read(path)
  if (text === null) return null
  try {
    return parse(text)
  } catch {
    return null
  }
}
