import type { CgroupInfo } from '../types.ts'
import type { Mount } from './mountinfo.ts'

// The kernel's v1 controllers. A `cgroup` mount carrying one is a controller hierarchy; one with only
// `name=systemd` is not, and doesn't make a pure-v2 machine hybrid.
const V1_CONTROLLERS = [
  'cpu',
  'cpuacct',
  'cpuset',
  'memory',
  'devices',
  'freezer',
  'net_cls',
  'blkio',
  'perf_event',
  'net_prio',
  'hugetlb',
  'pids',
  'rdma',
  'misc',
]

/** One line of `/proc/self/cgroup`: `id:controllers:path`. */
export interface CgroupEntry {
  id: string
  /** Empty for the v2 entry; `name=systemd` and the like are names, not controllers. */
  controllers: string[]
  path: string
}

/** Where a controller's cgroup lives, and the directories to read its files from. */
export interface CgroupLocation {
  info: CgroupInfo
  /** From the process's cgroup directory up to the mount point, both included; empty without one. */
  levels: string[]
}

/**
 * Parses `/proc/self/cgroup`.
 *
 * The path is everything after the second colon, since a cgroup name may itself hold colons.
 * @example
 * parseProcCgroup('4:cpu,cpuacct:/docker/abc\n0::/\n')
 * // [{ id: '4', controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
 * //  { id: '0', controllers: [], path: '/' }]
 */
export function parseProcCgroup(text: string): CgroupEntry[] {
  const entries: CgroupEntry[] = []
  for (const line of text.split('\n')) {
    const first = line.indexOf(':')
    const second = line.indexOf(':', first + 1)
    if (first < 0 || second < 0) continue
    const list = line.slice(first + 1, second)
    entries.push({
      id: line.slice(0, first),
      controllers: list === '' ? [] : list.split(','),
      path: line.slice(second + 1),
    })
  }
  return entries
}

/**
 * Finds the cgroup directory that holds `controller` for this process, following
 * docs/architecture.md: v1 when a v1 entry and a v1 mount both carry it, else v2 when there is a v2
 * entry and a cgroup2 mount, else none.
 * @example
 * const { info, levels } = locateCgroup('cpu', parseProcCgroup(cgroupText), parseMountinfo(mountText))
 * // info.dir === '/sys/fs/cgroup/cpu,cpuacct/docker/abc', levels ends with the mount point
 */
export function locateCgroup(
  controller: string,
  entries: CgroupEntry[],
  mounts: Mount[]
): CgroupLocation {
  const hybrid =
    mounts.some(
      (m) => m.fsType === 'cgroup' && m.superOptions.some((o) => V1_CONTROLLERS.includes(o))
    ) && mounts.some((m) => m.fsType === 'cgroup2')
  const isV2 = (e: CgroupEntry) => e.id === '0' && e.controllers.length === 0
  const v1Entry = entries.find((e) => !isV2(e) && e.controllers.includes(controller))
  const v1Mounts = mounts.filter(
    (m) => m.fsType === 'cgroup' && m.superOptions.includes(controller)
  )
  const v2Entry = entries.find(isV2)
  const v2Mounts = mounts.filter((m) => m.fsType === 'cgroup2')

  const found =
    v1Entry && v1Mounts.length > 0
      ? { version: 1 as const, entry: v1Entry, candidates: v1Mounts }
      : v2Entry && v2Mounts.length > 0
        ? { version: 2 as const, entry: v2Entry, candidates: v2Mounts }
        : null
  if (!found) return { info: { version: null, path: null, dir: null, hybrid }, levels: [] }

  const { version, entry, candidates } = found
  const mount = pickMount(entry.path, candidates)
  const dir = translate(entry.path, mount)
  return { info: { version, path: entry.path, dir, hybrid }, levels: walkUp(dir, mount.mountPoint) }
}

function isUnder(path: string, root: string): boolean {
  return root === '/' || path === root || path.startsWith(`${root}/`)
}

// Longest mount root that contains the path; the first such mount on a tie. When no root contains
// it (a cgroup namespace hides the part above), the first candidate is as good as any.
function pickMount(path: string, candidates: Mount[]): Mount {
  let best: Mount | undefined
  for (const mount of candidates) {
    if (isUnder(path, mount.root) && (!best || mount.root.length > best.root.length)) best = mount
  }
  return best ?? candidates[0]!
}

function translate(path: string, mount: Mount): string {
  if (path === mount.root || !isUnder(path, mount.root)) return mount.mountPoint
  const rest = mount.root === '/' ? path : path.slice(mount.root.length)
  return rest === '/' ? mount.mountPoint : mount.mountPoint + rest
}

/**
 * Lists `dir` and each parent up to `mountPoint`, leaf first.
 * @example
 * walkUp('/sys/fs/cgroup/a/b', '/sys/fs/cgroup') // ['/sys/fs/cgroup/a/b', '/sys/fs/cgroup/a', '/sys/fs/cgroup']
 */
export function walkUp(dir: string, mountPoint: string): string[] {
  const levels = [dir]
  for (let level = dir; level.length > mountPoint.length; ) {
    level = level.slice(0, level.lastIndexOf('/'))
    levels.push(level)
  }
  return levels
}
