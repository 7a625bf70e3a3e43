import { cpus } from 'node:os'
import type { CpuInfo } from '../types.ts'
import type { CgroupLocation } from './cgroup.ts'
import { countCpuList } from './cpulist.ts'
import { type ReadFile, readWith } from './files.ts'
import { type Reading, tightest } from './tightest.ts'

/**
 * Reads the CPU counts and limits of this process: host, affinity, CFS quota and cpuset.
 * @example
 * const cpu = probeCpu(readerUnder('/'), locateCgroup('cpu', ...), locateCgroup('cpuset', ...))
 * cpu.effective // 1.5 under a 150000/100000 quota
 */
export function probeCpu(read: ReadFile, cpu: CgroupLocation, cpuset: CgroupLocation): CpuInfo {
  const host = readWith(read, '/sys/devices/system/cpu/online', positiveCpuCount) ?? runtimeCpus()
  const affinity = readWith(read, '/proc/self/status', parseCpusAllowed) ?? host
  const quota = readQuota(read, cpu)
  const set = readCpuset(read, cpuset)
  return {
    host,
    affinity,
    quota: quota?.value ?? null,
    quotaSource: quota?.source ?? null,
    cpuset: set?.value ?? null,
    cpusetSource: set?.source ?? null,
    effective: Math.min(quota?.value ?? Infinity, set?.value ?? Infinity, affinity, host),
    cgroup: cpu.info,
  }
}

/**
 * Parses a v2 `cpu.max` into cores: `QUOTA PERIOD` is their ratio, `max PERIOD` is `null`.
 * @example
 * parseCpuMax('150000 100000\n') // 1.5
 */
export function parseCpuMax(text: string): number | null {
  const match = /^(max|[1-9]\d*) +([1-9]\d*)$/.exec(text.trim())
  if (!match) throw new Error(`invalid cpu.max "${text.trim()}": expected "QUOTA PERIOD"`)
  return match[1] === 'max' ? null : Number(match[1]) / Number(match[2])
}

/**
 * Parses a v1 `cpu.cfs_quota_us` or `cpu.cfs_period_us` value, a positive count of microseconds;
 * `-1` (no quota) is `null`.
 * @example
 * parseCfsValue('-1\n') // null
 */
export function parseCfsValue(text: string): number | null {
  const value = text.trim()
  if (value === '-1') return null
  if (!/^[1-9]\d*$/.test(value)) throw new Error(`invalid CFS value "${value}"`)
  return Number(value)
}

/**
 * Counts the CPUs in the `Cpus_allowed_list` line of `/proc/<pid>/status`.
 * @example
 * parseCpusAllowed('Name:\tnode\nCpus_allowed_list:\t0-3\n') // 4
 */
export function parseCpusAllowed(text: string): number {
  const match = /^Cpus_allowed_list:\s*(.*)$/m.exec(text)
  if (!match) throw new Error('no Cpus_allowed_list line in status')
  return positiveCpuCount(match[1]!)
}

function positiveCpuCount(text: string): number {
  const count = countCpuList(text)
  if (count === 0) throw new Error('empty CPU list')
  return count
}

// Deno without --allow-sys throws on os.cpus(); the process runs on at least one CPU.
function runtimeCpus(): number {
  try {
    return cpus().length || 1
  } catch {
    return 1
  }
}

function readQuota(read: ReadFile, { info, levels }: CgroupLocation): Reading<number> | null {
  if (info.version === 2) {
    return tightest(levels, (dir) => {
      const source = `${dir}/cpu.max`
      const value = readWith(read, source, parseCpuMax)
      return value === null ? null : { value, source }
    })
  }
  return tightest(levels, (dir) => {
    const source = `${dir}/cpu.cfs_quota_us`
    const quota = readWith(read, source, parseCfsValue)
    const period = readWith(read, `${dir}/cpu.cfs_period_us`, parseCfsValue)
    return quota === null || period === null ? null : { value: quota / period, source }
  })
}

// Leaf only: the effective set of a cgroup already reflects its ancestors.
function readCpuset(read: ReadFile, { info }: CgroupLocation): Reading<number> | null {
  if (info.dir === null) return null
  const files =
    info.version === 2 ? ['cpuset.cpus.effective'] : ['cpuset.effective_cpus', 'cpuset.cpus']
  for (const file of files) {
    const source = `${info.dir}/${file}`
    const value = readWith(read, source, countCpuList)
    if (value !== null) return value === 0 ? null : { value, source }
  }
  return null
}
