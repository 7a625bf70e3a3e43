// What the supervisor reads about its workers' memory: each worker's resident set (for
// `maxMemory`), and the cgroup's count of OOM kills, so that a SIGKILL from the kernel's OOM
// killer is reported as such rather than as an anonymous signal. Linux only (`/proc` and cgroup
// files); elsewhere every reading is `undefined` and the features say so once.
import { readFileSync } from 'node:fs'
import type { MemoryInfo } from '@bento/native'
import { formatBytes } from '../units.ts'

/**
 * A worker's resident memory in bytes (`VmRSS` in `/proc/<pid>/status`), `undefined` when it can't
 * be read (not Linux, or the process is gone).
 */
export function rssOf(pid: number): number | undefined {
  let status: string
  try {
    status = readFileSync(`/proc/${pid}/status`, 'utf8')
  } catch {
    return undefined
  }
  const kb = /^VmRSS:\s+(\d+)\s+kB/m.exec(status)?.[1]
  return kb === undefined ? undefined : Number(kb) * 1024
}

/** A counter of the cgroup's OOM kills (or, failing that, of the times it hit its limit). */
export interface OomCounter {
  /** The current value, `undefined` when the file can't be read. */
  read(): number | undefined
  /** `oom_kill` counts kills; `failcnt` only times the limit was hit (a weaker sign). */
  readonly kind: 'oom_kill' | 'failcnt'
  /** The file, for messages. */
  readonly file: string
}

/**
 * The counter for the memory cgroup this process (and so its workers) is in: cgroup v2's
 * `memory.events` (`oom_kill`), v1's `memory.oom_control` (`oom_kill`, Linux 4.13+), else v1's
 * `memory.failcnt`. `undefined` when none can be read.
 * @example
 * const counter = oomCounter(probe({ gpu: false }).memory)
 * const before = counter?.read()
 */
export function oomCounter(memory: MemoryInfo): OomCounter | undefined {
  const { dir, version } = memory.cgroup
  if (dir === null || version === null) return undefined
  const keyed = (file: string): OomCounter => ({
    kind: 'oom_kill',
    file,
    read: () => {
      try {
        const value = /^oom_kill (\d+)$/m.exec(readFileSync(file, 'utf8'))?.[1]
        return value === undefined ? undefined : Number(value)
      } catch {
        return undefined
      }
    },
  })
  const candidate = keyed(`${dir}/${version === 2 ? 'memory.events' : 'memory.oom_control'}`)
  if (candidate.read() !== undefined) return candidate
  if (version === 2) return undefined
  const file = `${dir}/memory.failcnt`
  const failcnt: OomCounter = {
    kind: 'failcnt',
    file,
    read: () => {
      try {
        const value = Number(readFileSync(file, 'utf8').trim())
        return Number.isFinite(value) ? value : undefined
      } catch {
        return undefined
      }
    },
  }
  return failcnt.read() === undefined ? undefined : failcnt
}

/**
 * Why a SIGKILLed worker died, when the cgroup's counter says it was memory: the counter's change
 * and the memory limit the worker lived under. `undefined` when nothing points at memory.
 * @example
 * const why = oomReason(counter, before, counter.read(), memory, 2)
 */
export function oomReason(
  counter: OomCounter,
  before: number | undefined,
  after: number | undefined,
  memory: MemoryInfo,
  workers: number
): string | undefined {
  if (before === undefined || after === undefined || after <= before) return undefined
  const what =
    counter.kind === 'oom_kill'
      ? `killed by the kernel's OOM killer (oom_kill in ${counter.file} went from ${before} to ${after})`
      : `killed, most likely by the kernel's OOM killer (the cgroup hit its memory limit: ${counter.file} went from ${before} to ${after})`
  const limit =
    memory.limit === null
      ? 'no cgroup memory limit is set, so the machine itself ran out'
      : `the memory limit is ${formatBytes(memory.limit)} (${memory.limitSource}), shared by ${workers} worker${workers === 1 ? '' : 's'}`
  return `${what}; ${limit}`
}
