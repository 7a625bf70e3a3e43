// Probes from inside real cgroups created for the test: a child process moves itself into the
// cgroup and then execs the runtime, so each runtime reads limits it really lives under.
import {
  accessSync,
  constants,
  mkdirSync,
  readFileSync,
  realpathSync,
  rmdirSync,
  writeFileSync,
} from 'node:fs'
import { afterEach, describe, expect, it, type TestContext } from 'vitest'
import type { ProbeResult } from '../lib/types.ts'
import { runProbe, runtimes } from './run-probe.ts'

type Version = 1 | 2
interface Hierarchy {
  base: string
  version: Version
}

// Where a cgroup for `controller` can be made here, or why not.
function findHierarchy(controller: 'cpu' | 'memory'): Hierarchy | string {
  if (process.getuid?.() !== 0) return 'creating cgroups needs root'
  const v1 = `/sys/fs/cgroup/${controller}`
  const v1File = controller === 'cpu' ? 'cpu.cfs_quota_us' : 'memory.limit_in_bytes'
  try {
    accessSync(`${v1}/${v1File}`)
    accessSync(v1, constants.W_OK)
    // Co-mounted hierarchies are often reached through a symlink (cpu -> cpu,cpuacct); the probe
    // reports the mount point's real path.
    return { base: realpathSync(v1), version: 1 }
  } catch {}
  try {
    const controllers = readFileSync('/sys/fs/cgroup/cgroup.controllers', 'utf8').split(/\s+/)
    if (controllers.includes(controller)) return { base: '/sys/fs/cgroup', version: 2 }
  } catch {}
  return `no writable cgroup v1 ${controller} hierarchy at ${v1}, and no cgroup v2 ${controller} controller in /sys/fs/cgroup`
}

const hierarchies = { cpu: findHierarchy('cpu'), memory: findHierarchy('memory') }

// Skips with the reason when this machine can't host the test; returns where to make cgroups.
function need(ctx: TestContext, controller: 'cpu' | 'memory'): Hierarchy {
  const found = hierarchies[controller]
  if (typeof found === 'string') ctx.skip(found)
  const hierarchy = found as Hierarchy
  if (hierarchy.version === 2) enableForChildren(ctx, hierarchy.base, controller)
  return hierarchy
}

function enableForChildren(ctx: TestContext, dir: string, controller: string) {
  const file = `${dir}/cgroup.subtree_control`
  if (readFileSync(file, 'utf8').split(/\s+/).includes(controller)) return
  try {
    writeFileSync(file, `+${controller}`)
  } catch (error) {
    ctx.skip(`cannot enable the ${controller} controller in ${file}: ${(error as Error).message}`)
  }
}

let serial = 0
const created: string[] = []

function makeCgroup(parent: string, name = `bento-test-${process.pid}-${++serial}`): string {
  const dir = `${parent}/${name}`
  mkdirSync(dir)
  created.push(dir)
  return dir
}

// The children have exited by now (spawnSync waits, killing them at its timeout), so each cgroup
// is empty; the kernel may still be finishing with it, hence the short retry.
afterEach(() => {
  for (const dir of created.splice(0).reverse()) {
    for (let attempt = 0; ; attempt++) {
      try {
        rmdirSync(dir)
        break
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 50) throw error
        Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20)
      }
    }
  }
})

// The child writes its own pid into the cgroup, then becomes the runtime: the probe runs as that
// very process, not as a parent outside the cgroup.
function probeIn(
  dir: string,
  runtime: readonly string[],
  implementation: 'auto' | 'fallback'
): ProbeResult {
  return runProbe(
    { gpu: false, implementation },
    {
      runtime,
      wrap: ['sh', '-c', 'echo $$ > "$1" && shift && exec "$@"', 'sh', `${dir}/cgroup.procs`],
    }
  )
}

function setQuota(dir: string, version: Version, quota: number, period: number) {
  if (version === 2) {
    writeFileSync(`${dir}/cpu.max`, `${quota < 0 ? 'max' : quota} ${period}`)
  } else {
    writeFileSync(`${dir}/cpu.cfs_period_us`, String(period))
    writeFileSync(`${dir}/cpu.cfs_quota_us`, String(quota))
  }
}

const quotaFile = (version: Version) => (version === 2 ? 'cpu.max' : 'cpu.cfs_quota_us')

// `auto` answers from the addon where it loads; `fallback` checks the TypeScript reading too.
const cases = (['node', 'bun', 'deno'] as const).flatMap((name) =>
  (['auto', 'fallback'] as const).map((implementation) => [name, implementation] as const)
)

describe.each(cases)('in a real cgroup, %s with implementation %s', (name, implementation) => {
  const runtime = runtimes[name]

  it('reports a 1.5-CPU quota from its own cgroup', (ctx) => {
    const { base, version } = need(ctx, 'cpu')
    const dir = makeCgroup(base)
    setQuota(dir, version, 150000, 100000)
    const { cpu } = probeIn(dir, runtime, implementation)
    expect(cpu.quota).toBe(1.5)
    expect(cpu.quotaSource).toBe(`${dir}/${quotaFile(version)}`)
    expect(cpu.effective).toBe(Math.min(1.5, cpu.affinity, cpu.host, cpu.cpuset ?? Infinity))
    expect(cpu.cgroup).toMatchObject({ version, dir })
    expect(cpu.cgroup.path).toMatch(new RegExp(`/${dir.slice(base.length + 1)}$`))
  })

  it("reports a parent's 1-CPU quota when its own cgroup has none", (ctx) => {
    const { base, version } = need(ctx, 'cpu')
    const parent = makeCgroup(base)
    setQuota(parent, version, 100000, 100000)
    const leaf = makeCgroup(parent, 'leaf')
    if (version === 1) setQuota(leaf, version, -1, 100000)
    const { cpu } = probeIn(leaf, runtime, implementation)
    expect(cpu.quota).toBe(1)
    expect(cpu.quotaSource).toBe(`${parent}/${quotaFile(version)}`)
    expect(cpu.cgroup.dir).toBe(leaf)
    expect(cpu.cgroup.path).toMatch(new RegExp(`/${parent.slice(base.length + 1)}/leaf$`))
  })

  it('reports a 512 MiB memory limit', (ctx) => {
    const { base, version } = need(ctx, 'memory')
    const dir = makeCgroup(base)
    const file = version === 2 ? 'memory.max' : 'memory.limit_in_bytes'
    writeFileSync(`${dir}/${file}`, String(512 * 1024 * 1024))
    const { memory } = probeIn(dir, runtime, implementation)
    expect(memory.limit).toBe(536870912)
    expect(memory.limitSource).toBe(`${dir}/${file}`)
    expect(memory.usage).toBeGreaterThan(0)
    expect(memory.cgroup).toMatchObject({ version, dir })
  })
})
