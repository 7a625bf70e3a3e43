import { describe, expect, it } from 'vitest'
import { locateCgroup, parseProcCgroup } from './cgroup.ts'
import type { ReadFile } from './files.ts'
import {
  parseBytes,
  parseHierarchicalLimit,
  parseMemoryMax,
  parseMemTotal,
  parseV1Limit,
  probeMemory,
} from './memory.ts'
import { parseMountinfo } from './mountinfo.ts'

describe('parsers', () => {
  it('parseBytes keeps values above 2^53 exact', () => {
    expect(parseBytes('9223372036854771713\n')).toBe(9223372036854771713n)
    expect(() => parseBytes('-1')).toThrow('invalid byte count "-1"')
    expect(() => parseBytes('')).toThrow('invalid byte count')
  })

  it('parseMemoryMax reads bytes and max', () => {
    expect(parseMemoryMax('max\n')).toBeNull()
    expect(parseMemoryMax('1073741824\n')).toBe(1073741824n)
    expect(() => parseMemoryMax('lots')).toThrow('invalid byte count')
  })

  it.each([
    ['9223372036854771712', null],
    ['9223372036854775807', null],
    ['4611686018427387904', null],
    ['4611686018427387903', 4611686018427387903n],
    ['536870912\n', 536870912n],
  ])('parseV1Limit(%j) is %s', (text, limit) => {
    expect(parseV1Limit(text)).toBe(limit)
  })

  it('parseHierarchicalLimit finds the line in memory.stat', () => {
    const stat = 'cache 0\nhierarchical_memory_limit 1073741824\nhierarchical_memsw_limit 1\n'
    expect(parseHierarchicalLimit(stat)).toBe(1073741824n)
    expect(parseHierarchicalLimit('hierarchical_memory_limit 9223372036854771712\n')).toBeNull()
    expect(() => parseHierarchicalLimit('cache 0\n')).toThrow('no hierarchical_memory_limit')
  })

  it('parseMemTotal converts kB to bytes', () => {
    expect(parseMemTotal('MemTotal:       24684084 kB\nMemFree: 1 kB\n')).toBe(24684084 * 1024)
    expect(() => parseMemTotal('MemFree: 1 kB\n')).toThrow('no "MemTotal: N kB" line')
  })
})

function probeTree(contents: Record<string, string>) {
  const read: ReadFile = (path) => contents[path] ?? null
  const entries = parseProcCgroup(contents['/proc/self/cgroup'] ?? '')
  const mounts = parseMountinfo(contents['/proc/self/mountinfo'] ?? '')
  return probeMemory(read, locateCgroup('memory', entries, mounts))
}

const V1 = {
  '/proc/self/cgroup': '4:memory:/a/b\n',
  '/proc/self/mountinfo': '35 31 0:32 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n',
  '/proc/meminfo': 'MemTotal:       16384 kB\n',
}
const M = '/sys/fs/cgroup/memory'

describe('probeMemory', () => {
  it('takes the tightest v2 memory.max and the leaf usage', () => {
    const memory = probeTree({
      '/proc/self/cgroup': '0::/a/b\n',
      '/proc/self/mountinfo': '25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      '/proc/meminfo': 'MemTotal:       16384 kB\n',
      '/sys/fs/cgroup/a/b/memory.max': 'max\n',
      '/sys/fs/cgroup/a/b/memory.current': '4096\n',
      '/sys/fs/cgroup/a/memory.max': '2147483648\n',
      '/sys/fs/cgroup/memory.max': '4294967296\n',
    })
    expect(memory).toStrictEqual({
      limit: 2147483648,
      limitSource: '/sys/fs/cgroup/a/memory.max',
      usage: 4096,
      host: 16384 * 1024,
      cgroup: { version: 2, path: '/a/b', dir: '/sys/fs/cgroup/a/b', hybrid: false },
    })
  })

  it('prefers a strictly tighter v1 hierarchical limit from the leaf memory.stat', () => {
    const memory = probeTree({
      ...V1,
      [`${M}/a/b/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`${M}/a/memory.limit_in_bytes`]: '2147483648\n',
      [`${M}/a/b/memory.stat`]: 'hierarchical_memory_limit 1073741824\n',
      [`${M}/a/b/memory.usage_in_bytes`]: '8192\n',
    })
    expect(memory).toMatchObject({
      limit: 1073741824,
      limitSource: `${M}/a/b/memory.stat`,
      usage: 8192,
    })
  })

  it('reports limit_in_bytes when memory.stat only ties it', () => {
    const memory = probeTree({
      ...V1,
      [`${M}/a/memory.limit_in_bytes`]: '2147483648\n',
      [`${M}/a/b/memory.stat`]: 'hierarchical_memory_limit 2147483648\n',
    })
    expect(memory.limitSource).toBe(`${M}/a/memory.limit_in_bytes`)
  })

  it('has no limit when every v1 level holds the sentinel', () => {
    const memory = probeTree({
      ...V1,
      [`${M}/a/b/memory.limit_in_bytes`]: '9223372036854771712\n',
      [`${M}/memory.limit_in_bytes`]: '9223372036854775807\n',
      [`${M}/a/b/memory.stat`]: 'hierarchical_memory_limit 9223372036854771712\n',
    })
    expect(memory).toMatchObject({ limit: null, limitSource: null, usage: null })
  })

  it('knows nothing of a cgroup when there is none, but still the host', () => {
    const memory = probeTree({ '/proc/meminfo': 'MemTotal: 1024 kB\n' })
    expect(memory).toStrictEqual({
      limit: null,
      limitSource: null,
      usage: null,
      host: 1024 * 1024,
      cgroup: { version: null, path: null, dir: null, hybrid: false },
    })
  })

  it("uses the runtime's total memory without /proc/meminfo", () => {
    expect(probeTree({}).host).toBeGreaterThan(0)
  })
})
