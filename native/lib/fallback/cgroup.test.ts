import { describe, expect, it } from 'vitest'
import { locateCgroup, parseProcCgroup, walkUp } from './cgroup.ts'
import { parseMountinfo } from './mountinfo.ts'

describe('parseProcCgroup', () => {
  it('splits id, controllers and path', () => {
    expect(
      parseProcCgroup('4:cpu,cpuacct:/docker/abc\n1:name=systemd:/init.scope\n0::/\n')
    ).toStrictEqual([
      { id: '4', controllers: ['cpu', 'cpuacct'], path: '/docker/abc' },
      { id: '1', controllers: ['name=systemd'], path: '/init.scope' },
      { id: '0', controllers: [], path: '/' },
    ])
  })

  it('keeps colons and spaces in the path and skips lines that are not entries', () => {
    expect(parseProcCgroup('\nnonsense\n3:cpuset:/a:b c\n')).toStrictEqual([
      { id: '3', controllers: ['cpuset'], path: '/a:b c' },
    ])
  })
})

const HYBRID_MOUNTS = parseMountinfo(
  [
    '31 23 0:28 / /sys/fs/cgroup rw - tmpfs tmpfs rw,mode=755',
    '32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw - cgroup cgroup rw,cpu,cpuacct',
    '34 31 0:31 / /sys/fs/cgroup/cpuset rw - cgroup cgroup rw,cpuset',
    '40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
    '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
  ].join('\n')
)
const HYBRID_ENTRIES = parseProcCgroup(
  '4:cpu,cpuacct:/kubepods/pod1\n3:cpuset:/\n1:name=systemd:/init.scope\n0::/init.scope\n'
)

describe('locateCgroup', () => {
  it('puts a controller on v1 when an entry and a mount carry it', () => {
    expect(locateCgroup('cpu', HYBRID_ENTRIES, HYBRID_MOUNTS)).toStrictEqual({
      info: {
        version: 1,
        path: '/kubepods/pod1',
        dir: '/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1',
        hybrid: true,
      },
      levels: [
        '/sys/fs/cgroup/cpu,cpuacct/kubepods/pod1',
        '/sys/fs/cgroup/cpu,cpuacct/kubepods',
        '/sys/fs/cgroup/cpu,cpuacct',
      ],
    })
  })

  it('falls back to v2 for a controller no v1 mount carries', () => {
    const { info } = locateCgroup('memory', HYBRID_ENTRIES, HYBRID_MOUNTS)
    expect(info).toStrictEqual({
      version: 2,
      path: '/init.scope',
      dir: '/sys/fs/cgroup/unified/init.scope',
      hybrid: true,
    })
  })

  it('does not take cpuacct or a name= hierarchy for cpu', () => {
    const entries = parseProcCgroup('3:cpuacct:/a\n2:name=cpu:/b\n')
    const mounts = parseMountinfo('32 31 0:29 / /x rw - cgroup cgroup rw,cpuacct,name=cpu')
    expect(locateCgroup('cpu', entries, mounts).info.version).toBeNull()
  })

  it('finds no cgroup without an entry, or without a mount', () => {
    const none = { version: null, path: null, dir: null, hybrid: false }
    expect(locateCgroup('cpu', [], [])).toStrictEqual({ info: none, levels: [] })
    expect(locateCgroup('cpu', parseProcCgroup('0::/a\n'), [])).toStrictEqual({
      info: none,
      levels: [],
    })
    const v1Only = parseMountinfo('32 31 0:29 / /sys/fs/cgroup/cpu rw - cgroup cgroup rw,cpu')
    expect(locateCgroup('cpu', parseProcCgroup('0::/a\n'), v1Only).info).toStrictEqual(none)
  })

  it('is hybrid only when a v1 mount carries a real controller', () => {
    const mounts = parseMountinfo(
      [
        '40 31 0:37 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
        '41 31 0:38 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw',
      ].join('\n')
    )
    expect(locateCgroup('cpu', HYBRID_ENTRIES, mounts).info.hybrid).toBe(false)
  })

  it('picks the mount whose root is the longest prefix of the path', () => {
    const mounts = parseMountinfo(
      [
        '1 0 0:1 / /all rw - cgroup2 cgroup2 rw',
        '2 0 0:1 /kube /kube-only rw - cgroup2 cgroup2 rw',
        '3 0 0:1 /kubepods /pods rw - cgroup2 cgroup2 rw',
        '4 0 0:1 /kubepods/pod1/c1 /c1 rw - cgroup2 cgroup2 rw',
      ].join('\n')
    )
    const dir = (path: string) =>
      locateCgroup('cpu', parseProcCgroup(`0::${path}\n`), mounts).info.dir
    // `/kube` is a string prefix of `/kubepods` but not a directory above it.
    expect(dir('/kubepods/pod1/c2')).toBe('/pods/pod1/c2')
    expect(dir('/kubepods/pod1/c1')).toBe('/c1')
    expect(dir('/kube/x')).toBe('/kube-only/x')
    expect(dir('/system.slice')).toBe('/all/system.slice')
  })

  it('takes the first of equally long roots', () => {
    const mounts = parseMountinfo(
      [
        '1 0 0:1 / /first rw - cgroup2 cgroup2 rw',
        '2 0 0:1 / /second rw - cgroup2 cgroup2 rw',
      ].join('\n')
    )
    expect(locateCgroup('cpu', parseProcCgroup('0::/a\n'), mounts).info.dir).toBe('/first/a')
  })

  it('uses the mount point itself when no mount root contains the path', () => {
    const mounts = parseMountinfo('703 702 0:26 /../.. /sys/fs/cgroup rw - cgroup2 cgroup2 rw')
    expect(locateCgroup('cpu', parseProcCgroup('0::/\n'), mounts)).toStrictEqual({
      info: { version: 2, path: '/', dir: '/sys/fs/cgroup', hybrid: false },
      levels: ['/sys/fs/cgroup'],
    })
  })
})

describe('walkUp', () => {
  it('lists each directory from the leaf to the mount point', () => {
    expect(walkUp('/sys/fs/cgroup/a/b', '/sys/fs/cgroup')).toStrictEqual([
      '/sys/fs/cgroup/a/b',
      '/sys/fs/cgroup/a',
      '/sys/fs/cgroup',
    ])
  })

  it('is the mount point alone when the cgroup is the mount point', () => {
    expect(walkUp('/sys/fs/cgroup', '/sys/fs/cgroup')).toStrictEqual(['/sys/fs/cgroup'])
  })

  it('keeps spaces and commas in directory names', () => {
    expect(walkUp('/mnt/cg tree/web worker', '/mnt/cg tree')).toStrictEqual([
      '/mnt/cg tree/web worker',
      '/mnt/cg tree',
    ])
  })
})
