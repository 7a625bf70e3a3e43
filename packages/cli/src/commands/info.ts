import { formatBytes } from '@bento/core'
import { formatProbe, probe } from '@bento/native'
import { resolveEntry } from '../entry.ts'
import { loadEntry } from '../load.ts'
import { planEntry } from '../start.ts'

/** `bento info`'s flags. */
export interface InfoOptions {
  json: boolean
  workers: number | undefined
}

/**
 * `bento info [entry]`: what the probe sees (CPU quota and its file, memory limit, GPUs) and, given
 * an entry, the worker plan with its reasons and each worker's GPUs and variables.
 * @example
 * await info('service.ts', { json: true, workers: undefined }, process.cwd(), console.log)
 */
export async function info(
  entryArg: string | undefined,
  options: InfoOptions,
  cwd: string,
  print: (text: string) => void
): Promise<void> {
  const machine = probe()
  const entry = entryArg === undefined ? undefined : await loadEntry(resolveEntry(entryArg, cwd))
  const planned = entry === undefined ? undefined : planEntry(entry, options.workers)
  if (options.json) {
    const plan = planned && {
      workers: planned.assignments.length,
      reasons: planned.plan?.reasons ?? [],
      warnings: planned.plan?.warnings ?? [],
      assignments: planned.assignments.map(({ workerIndex, env }) => ({ workerIndex, env })),
    }
    print(JSON.stringify(plan === undefined ? machine : { ...machine, plan }, null, 2))
    return
  }
  print(formatProbe(machine))
  if (!planned) return
  const count = planned.assignments.length
  print(`\nplan    ${count} worker${count === 1 ? '' : 's'}`)
  for (const reason of planned.plan?.reasons ?? []) print(`        ${reason}`)
  for (const warning of planned.plan?.warnings ?? []) print(`warning ${warning}`)
  for (const assignment of planned.plan?.assignments ?? []) {
    const gpus = assignment.gpus.length === 0 ? 'no GPU' : assignment.gpus.join(', ')
    print(
      `worker ${assignment.workerIndex}: ${gpus}, ${assignment.threads} thread${assignment.threads === 1 ? '' : 's'}`
    )
  }
  if (machine.memory.limit !== null && planned.plan) {
    print(
      `memory  ${formatBytes(machine.memory.limit)} limit shared by ${count} worker${count === 1 ? '' : 's'}`
    )
  }
}
