// The strategy and the supervisor together, inside a real cgroup: a `workers: "cpu_count"` service
// started under a CPU quota runs ceil(quota) workers.
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs'
import { describe, expect, it } from 'vitest'
import { findWorkers, fixture, Proc, RUNTIMES, runtimeCommand } from './harness.ts'

// A writable cgroup v1 cpu hierarchy, or cgroup v2 with the cpu controller, or why there is none.
function findHierarchy(): { base: string; version: 1 | 2 } | string {
  if (process.getuid?.() !== 0) return 'creating cgroups needs root'
  try {
    accessSync('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')
    accessSync('/sys/fs/cgroup/cpu', constants.W_OK)
    return { base: realpathSync('/sys/fs/cgroup/cpu'), version: 1 }
  } catch {}
  try {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/)
    const enabled = readFileSync('/sys/fs/cgroup/cgroup.subtree_control', 'utf8').split(/\s+/)
    if (controllers.includes('cpu') && enabled.includes('cpu'))
      return { base: '/sys/fs/cgroup', version: 2 }
  } catch {}
  return 'no writable cgroup v1 cpu hierarchy and no cgroup v2 with the cpu controller enabled'
}

const hierarchy = findHierarchy()
const skip = typeof hierarchy === 'string' ? hierarchy : undefined
let serial = 0

function makeCgroup(cpus: number): string {
  const { base, version } = hierarchy as { base: string; version: 1 | 2 }
  const dir = `${base}/bento-supervisor-test-${process.pid}-${++serial}`
  mkdirSync(dir)
  if (version === 2) writeFileSync(`${dir}/cpu.max`, `${cpus * 100_000} 100000`)
  else {
    writeFileSync(`${dir}/cpu.cfs_period_us`, '100000')
    writeFileSync(`${dir}/cpu.cfs_quota_us`, String(cpus * 100_000))
  }
  return dir
}

async function removeCgroup(dir: string) {
  // Its processes are gone, but the kernel may still be finishing with them.
  for (let attempt = 0; ; attempt++) {
    try {
      return rmdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 100) throw error
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

describe.each(RUNTIMES)('%s in a real cgroup', (runtime) => {
  it.skipIf(skip).each([
    [1.5, 2],
    [0.5, 1],
  ])(
    `runs ceil(quota) workers for workers: "cpu_count" under a %s-CPU quota${skip ? ` (skipped: ${skip})` : ''}`,
    async (cpus, workers) => {
      const dir = makeCgroup(cpus)
      // The shell moves itself into the cgroup and becomes the supervisor; its workers follow.
      const proc = new Proc(
        [
          'sh',
          '-c',
          'echo $$ > "$1" && shift && exec "$@"',
          'sh',
          `${dir}/cgroup.procs`,
          ...runtimeCommand[runtime],
          fixture('serve.mjs'),
        ],
        { BENTO_TEST_CONFIG: JSON.stringify({ entry: './cpu-service.mjs' }) }
      )
      try {
        const [, port, planned] = await proc.waitFor(/^TEST READY port=(\d+) workers=(\d+)/)
        expect(Number(planned)).toBe(workers)
        expect(proc.output).toMatch(new RegExp(`quota ${cpus} CPUs`))
        const indices = Array.from({ length: workers }, (_, i) => i + 1)
        const found = await findWorkers(Number(port), indices)
        expect([...found.keys()].sort()).toEqual(indices)
        for (const info of found.values()) expect(info.count).toBe(workers)
        expect(
          proc.lines.filter((line) => /onStartup ran/.test(line)),
          proc.output
        ).toHaveLength(workers)
        // Every process of the service lives in the cgroup.
        const members = readFileSync(`${dir}/cgroup.procs`, 'utf8').trim().split('\n').map(Number)
        for (const info of found.values()) expect(members).toContain(info.pid)
      } finally {
        proc.killGroup()
        await proc.exited
        await removeCgroup(dir)
      }
    },
    30_000
  )
})
