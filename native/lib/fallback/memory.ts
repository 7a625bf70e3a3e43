import { totalmem } from 'node:os'
import type { MemoryInfo } from '../types.ts'
import type { CgroupLocation } from './cgroup.ts'
import { type ReadFile, readWith } from './files.ts'
import { type Reading, tightest } from './tightest.ts'

// v1 reports "no limit" as a huge page-aligned number (9223372036854771712 with 4 KiB pages, other
// values with other page sizes); anything this large can't be a real limit.
const V1_UNLIMITED = 2n ** 62n

/**
 * Reads the memory limit, usage and host total of this process.
 * @example
 * const memory = probeMemory(readerUnder('/'), locateCgroup('memory', ...))
 * memory.limit // 536870912 under a 512 MiB limit
 */
export function probeMemory(read: ReadFile, memory: CgroupLocation): MemoryInfo {
  const { info, levels } = memory
  const leaf = info.dir
  const limit = info.version === 2 ? v2Limit(read, levels) : v1Limit(read, levels, leaf)
  const usageFile = info.version === 2 ? 'memory.current' : 'memory.usage_in_bytes'
  const usage = leaf === null ? null : readWith(read, `${leaf}/${usageFile}`, parseBytes)
  return {
    limit: limit === null ? null : Number(limit.value),
    limitSource: limit?.source ?? null,
    usage: usage === null ? null : Number(usage),
    host: readWith(read, '/proc/meminfo', parseMemTotal) ?? runtimeMemory(),
    cgroup: info,
  }
}

/**
 * Parses a whole number of bytes, as a bigint: v1's sentinel is above 2^53.
 * @example
 * parseBytes('9223372036854771712\n') // 9223372036854771712n
 */
export function parseBytes(text: string): bigint {
  const value = text.trim()
  if (!/^\d+$/.test(value)) throw new Error(`invalid byte count "${value}"`)
  return BigInt(value)
}

/**
 * Parses a v2 `memory.max`: bytes, or `null` for `max`.
 * @example
 * parseMemoryMax('max\n') // null
 */
export function parseMemoryMax(text: string): bigint | null {
  return text.trim() === 'max' ? null : parseBytes(text)
}

/**
 * Parses a v1 limit in bytes; v1's "unlimited" sentinel (anything at or above 2^62) is `null`.
 * @example
 * parseV1Limit('9223372036854771712') // null
 */
export function parseV1Limit(text: string): bigint | null {
  const value = parseBytes(text)
  return value >= V1_UNLIMITED ? null : value
}

/**
 * Finds `hierarchical_memory_limit` in a v1 `memory.stat`; the sentinel is `null`.
 * @example
 * parseHierarchicalLimit('cache 0\nhierarchical_memory_limit 1073741824\n') // 1073741824n
 */
export function parseHierarchicalLimit(text: string): bigint | null {
  const match = /^hierarchical_memory_limit (\S+)$/m.exec(text)
  if (!match) throw new Error('no hierarchical_memory_limit line in memory.stat')
  return parseV1Limit(match[1]!)
}

/**
 * Reads `MemTotal` from `/proc/meminfo`, in bytes.
 * @example
 * parseMemTotal('MemTotal:       24684084 kB\n') // 25276502016
 */
export function parseMemTotal(text: string): number {
  const match = /^MemTotal:\s+(\d+) kB$/m.exec(text)
  if (!match) throw new Error('no "MemTotal: N kB" line in meminfo')
  return Number(match[1]) * 1024
}

function v2Limit(read: ReadFile, levels: string[]): Reading<bigint> | null {
  return tightest(levels, (dir) => readLimit(read, `${dir}/memory.max`, parseMemoryMax))
}

// limit_in_bytes shows only the levels under the mount; memory.stat's hierarchical limit also
// covers the ancestors a container can't see, so it wins when it is strictly tighter.
function v1Limit(read: ReadFile, levels: string[], leaf: string | null): Reading<bigint> | null {
  const visible = tightest(levels, (dir) =>
    readLimit(read, `${dir}/memory.limit_in_bytes`, parseV1Limit)
  )
  if (leaf === null) return visible
  const hierarchical = readLimit(read, `${leaf}/memory.stat`, parseHierarchicalLimit)
  if (hierarchical && (!visible || hierarchical.value < visible.value)) return hierarchical
  return visible
}

function readLimit(
  read: ReadFile,
  source: string,
  parse: (text: string) => bigint | null
): Reading<bigint> | null {
  const value = readWith(read, source, parse)
  return value === null ? null : { value, source }
}

// Deno without --allow-sys throws on os.totalmem().
function runtimeMemory(): number | null {
  try {
    return totalmem()
  } catch {
    return null
  }
}
