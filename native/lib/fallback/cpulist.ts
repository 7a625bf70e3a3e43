/**
 * Counts the CPUs in a kernel CPU list such as `0-3,6` (5 CPUs).
 *
 * Accepts what `/sys/devices/system/cpu/online`, `cpuset.cpus` and `Cpus_allowed_list` hold: comma
 * separated single CPUs and inclusive ranges, surrounded by optional whitespace. An empty list is 0.
 * @example
 * countCpuList('0-3,6\n') // 5
 */
export function countCpuList(text: string): number {
  const list = text.trim()
  if (list === '') return 0
  let count = 0
  for (const part of list.split(',')) {
    const match = /^(\d+)(?:-(\d+))?$/.exec(part)
    if (!match) throw new Error(`invalid CPU list "${list}": bad entry "${part}"`)
    const first = Number(match[1])
    const last = match[2] === undefined ? first : Number(match[2])
    if (last < first) throw new Error(`invalid CPU list "${list}": range "${part}" runs backwards`)
    count += last - first + 1
  }
  return count
}
