import { describe, expect, it } from 'vitest'
import { parseMountinfo, unescapeOctal } from './mountinfo.ts'

describe('parseMountinfo', () => {
  it('reads root, mount point, type and super options', () => {
    const text =
      '35 31 0:31 /docker/abc /sys/fs/cgroup/cpu,cpuacct ro,nosuid - cgroup cgroup rw,cpu,cpuacct\n'
    expect(parseMountinfo(text)).toStrictEqual([
      {
        root: '/docker/abc',
        mountPoint: '/sys/fs/cgroup/cpu,cpuacct',
        fsType: 'cgroup',
        superOptions: ['rw', 'cpu', 'cpuacct'],
      },
    ])
  })

  it('finds the filesystem fields after any number of optional fields', () => {
    const text = [
      '29 23 0:26 / /sys/fs/cgroup rw,relatime - cgroup2 cgroup2 rw',
      '30 23 0:27 / /a rw shared:5 - tmpfs tmpfs rw',
      '31 23 0:28 / /b rw shared:5 master:1 - cgroup2 cgroup2 rw,nsdelegate',
      '32 23 0:29 / /c rw shared:5 master:1 propagate_from:2 unbindable - proc proc rw',
    ].join('\n')
    expect(parseMountinfo(text).map((m) => [m.mountPoint, m.fsType, m.superOptions])).toStrictEqual(
      [
        ['/sys/fs/cgroup', 'cgroup2', ['rw']],
        ['/a', 'tmpfs', ['rw']],
        ['/b', 'cgroup2', ['rw', 'nsdelegate']],
        ['/c', 'proc', ['rw']],
      ]
    )
  })

  it('unescapes the root and the mount point', () => {
    const [mount] = parseMountinfo(
      '40 27 0:26 /my\\040apps /mnt/cgroup\\040tree rw - cgroup2 none rw'
    )
    expect(mount).toMatchObject({ root: '/my apps', mountPoint: '/mnt/cgroup tree' })
  })

  it('skips malformed and empty lines without losing the others', () => {
    const text = [
      '',
      'garbage',
      '1 2 3 / /x rw no-separator cgroup2 cgroup2 rw',
      '1 2 3 / /y rw -',
      '29 23 0:26 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw',
    ].join('\n')
    expect(parseMountinfo(text).map((m) => m.mountPoint)).toStrictEqual(['/sys/fs/cgroup'])
  })
})

describe('unescapeOctal', () => {
  it.each([
    ['/plain/path', '/plain/path'],
    ['/a\\040b', '/a b'],
    ['/tab\\011here', '/tab\there'],
    ['/new\\012line', '/new\nline'],
    ['/back\\134slash', '/back\\slash'],
    ['/two\\040\\040spaces', '/two  spaces'],
    // Not escapes: too few digits, a non-octal digit, or a value above one byte.
    ['/a\\04', '/a\\04'],
    ['/a\\089', '/a\\089'],
    ['/a\\777', '/a\\777'],
    // Escaped bytes that form UTF-8 decode as such; a stray byte becomes U+FFFD.
    ['/caf\\303\\251', '/café'],
    ['/bad\\377', '/bad\uFFFD'],
  ])('%j is %j', (escaped, plain) => {
    expect(unescapeOctal(escaped)).toBe(plain)
  })
})
