import { formatBytes } from '@bento/core/adapter'
import { describeExport, environment, findExport, planPool } from '@bento/core/serve'
import { formatProbe, probe } from '@bento/native'
import { resolveEntry } from '../entry.ts'
import { CliError } from '../errors.ts'
import { importModule } from '../load.ts'

/** `bento info`'s flags. */
export interface InfoOptions {
  json: boolean
  workers: number | undefined
}

/**
 * `bento info [entry]`: what the probe sees (CPU quota and its file, memory limit, GPUs) and, for
 * the entry (a file, a directory, or the current directory when it holds a service), the worker
 * plan with its reasons and each worker's GPUs and variables. The entry is described in this
 * process by the same rules as `bento serve`'s deployment process.
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
  const file = findEntry(entryArg, cwd)
  let planned: ReturnType<typeof planPool> | undefined
  if (file !== undefined) {
    const description = describeExport(findExport(await importModule(file), file))
    planned = planPool(description, {
      probe: machine,
      env: environment(),
      ...(options.workers !== undefined && {
        workers: { count: options.workers, source: '--workers' },
      }),
    })
  }
  if (options.json) {
    const plan = planned && {
      workers: planned.workers,
      reasons: planned.reasons,
      warnings: planned.warnings,
      assignments: planned.assignments.map(({ workerIndex, gpus, threads, env }) => ({
        workerIndex,
        gpus,
        threads,
        env,
      })),
    }
    print(JSON.stringify(plan === undefined ? machine : { ...machine, plan }, null, 2))
    return
  }
  print(formatProbe(machine))
  if (!planned) return
  const count = planned.workers
  print(`\nplan    ${count} worker${count === 1 ? '' : 's'}`)
  for (const reason of planned.reasons) print(`        ${reason}`)
  for (const warning of planned.warnings) print(`warning ${warning}`)
  for (const assignment of planned.assignments) {
    const gpus = assignment.gpus.length === 0 ? 'no GPU' : assignment.gpus.join(', ')
    print(
      `worker ${assignment.workerIndex}: ${gpus}, ${assignment.threads} thread${assignment.threads === 1 ? '' : 's'}`
    )
  }
  if (machine.memory.limit !== null) {
    print(
      `memory  ${formatBytes(machine.memory.limit)} limit shared by ${count} worker${count === 1 ? '' : 's'}`
    )
  }
}

// The entry given, or the current directory's when it has one: `bento info` with nothing to plan
// still shows the machine.
function findEntry(entryArg: string | undefined, cwd: string): string | undefined {
  try {
    return resolveEntry(entryArg, cwd)
  } catch (error) {
    if (entryArg === undefined && error instanceof CliError) return undefined
    throw error
  }
}
