/** A limit and the file it came from. */
export interface Reading<T> {
  value: T
  source: string
}

/**
 * The smallest reading over the cgroup levels, leaf first; on a tie the level nearest the leaf.
 *
 * Any level may be missing its file or set no limit (`read` returns `null`): limits nest, so the
 * tightest one anywhere on the path is the one the process lives under.
 * @example
 * tightest(['/sys/fs/cgroup/a', '/sys/fs/cgroup'], (dir) => readLimit(`${dir}/memory.max`))
 */
export function tightest<T extends number | bigint>(
  levels: string[],
  read: (dir: string) => Reading<T> | null
): Reading<T> | null {
  let best: Reading<T> | null = null
  for (const dir of levels) {
    const reading = read(dir)
    if (reading && (!best || reading.value < best.value)) best = reading
  }
  return best
}
