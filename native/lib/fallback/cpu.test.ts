import { describe, expect, it } from 'vitest'
import { locateCgroup, parseProcCgroup } from './cgroup.ts'
import { parseCfsValue, parseCpuMax, parseCpusAllowed, probeCpu } from './cpu.ts'
import type { ReadFile } from './files.ts'
import { parseMountinfo } from './mountinfo.ts'

describe('parseCpuMax', () => {
  it.each([
    ['max 100000\n', null],
    ['150000 100000\n', 1.5],
    ['50000 100000', 0.5],
    ['200000 100000', 2],
  ])('%j is %j cores', (text, cores) => {
    expect(parseCpuMax(text)).toBe(cores)
  })

  it.each(['max', '', '0 100000', '100000 0', 'abc 100000', '-1 100000'])('rejects %j', (text) => {
    expect(() => parseCpuMax(text)).toThrow('invalid cpu.max')
  })
})

describe('parseCfsValue', () => {
  it('reads microseconds, and -1 as no quota', () => {
    expect(parseCfsValue('150000\n')).toBe(150000)
    expect(parseCfsValue('-1\n')).toBeNull()
  })

  it.each(['', '0', '-2', '1.5', 'max'])('rejects %j', (text) => {
    expect(() => parseCfsValue(text)).toThrow('invalid CFS value')
  })
})

describe('parseCpusAllowed', () => {
  it('counts the Cpus_allowed_list line, not the Cpus_allowed mask', () => {
    expect(parseCpusAllowed('Name:\tnode\nCpus_allowed:\tff\nCpus_allowed_list:\t0-3,6\n')).toBe(5)
  })

  it('rejects a status without the line, or with an empty list', () => {
    expect(() => parseCpusAllowed('Name:\tnode\n')).toThrow('no Cpus_allowed_list')
    expect(() => parseCpusAllowed('Cpus_allowed_list:\t\n')).toThrow('empty CPU list')
  })
})

function files(contents: Record<string, string>): ReadFile {
  return (path) => contents[path] ?? null
}

function probeTree(contents: Record<string, string>) {
  const read = files(contents)
  const entries = parseProcCgroup(contents['/proc/self/cgroup'] ?? '')
  const mounts = parseMountinfo(contents['/proc/self/mountinfo'] ?? '')
  return probeCpu(
    read,
    locateCgroup('cpu', entries, mounts),
    locateCgroup('cpuset', entries, mounts)
  )
}

const V2 = {
  '/proc/self/cgroup': '0::/a/b\n',
  '/proc/self/mountinfo': '25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
  '/sys/devices/system/cpu/online': '0-7\n',
  '/proc/self/status': 'Name:\tnode\nCpus_allowed_list:\t0-5\n',
}

const V1 = {
  '/proc/self/cgroup': '4:cpu,cpuacct:/a\n3:cpuset:/a\n',
  '/proc/self/mountinfo': [
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset',
  ].join('\n'),
  '/sys/devices/system/cpu/online': '0-3\n',
}

describe('probeCpu', () => {
  it('takes the tightest v2 quota over the walk and the leaf cpuset', () => {
    const cpu = probeTree({
      ...V2,
      '/sys/fs/cgroup/a/b/cpu.max': 'max 100000\n',
      '/sys/fs/cgroup/a/cpu.max': '250000 100000\n',
      '/sys/fs/cgroup/cpu.max': '300000 100000\n',
      '/sys/fs/cgroup/a/b/cpuset.cpus.effective': '0-3\n',
      '/sys/fs/cgroup/a/cpuset.cpus.effective': '0\n',
    })
    expect(cpu).toStrictEqual({
      host: 8,
      affinity: 6,
      quota: 2.5,
      quotaSource: '/sys/fs/cgroup/a/cpu.max',
      cpuset: 4,
      cpusetSource: '/sys/fs/cgroup/a/b/cpuset.cpus.effective',
      effective: 2.5,
      cgroup: { version: 2, path: '/a/b', dir: '/sys/fs/cgroup/a/b', hybrid: false },
    })
  })

  it('divides a v1 quota by the period of the same level', () => {
    const cpu = probeTree({
      ...V1,
      '/sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_period_us': '25000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    })
    expect(cpu.quota).toBe(2)
    expect(cpu.quotaSource).toBe('/sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_quota_us')
    expect(cpu.effective).toBe(2)
  })

  it('skips a v1 level whose period is missing', () => {
    const cpu = probeTree({
      ...V1,
      '/sys/fs/cgroup/cpu,cpuacct/a/cpu.cfs_quota_us': '50000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000\n',
      '/sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000\n',
    })
    expect(cpu.quota).toBe(3)
  })

  it('reads v1 cpuset.cpus when cpuset.effective_cpus is missing, and not when it is empty', () => {
    const base = { ...V1, '/sys/fs/cgroup/cpuset/a/cpuset.cpus': '0-1\n' }
    expect(probeTree(base)).toMatchObject({
      cpuset: 2,
      cpusetSource: '/sys/fs/cgroup/cpuset/a/cpuset.cpus',
    })
    expect(
      probeTree({ ...base, '/sys/fs/cgroup/cpuset/a/cpuset.effective_cpus': '\n' })
    ).toMatchObject({ cpuset: null, cpusetSource: null })
  })

  it('falls back for host and affinity when their files are unreadable', () => {
    const cpu = probeTree({ '/sys/devices/system/cpu/online': '0-1,3\n' })
    expect(cpu).toMatchObject({ host: 3, affinity: 3, quota: null, cpuset: null, effective: 3 })
    expect(probeTree({}).host).toBeGreaterThanOrEqual(1)
  })

  it('is limited by affinity and host as well as quota and cpuset', () => {
    const cpu = probeTree({
      ...V2,
      '/proc/self/status': 'Cpus_allowed_list:\t0\n',
      '/sys/fs/cgroup/a/b/cpu.max': '400000 100000\n',
    })
    expect(cpu.effective).toBe(1)
  })
})
