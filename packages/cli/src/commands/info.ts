import { relative } from 'node:path'
import { formatBytes } from '@bento/core/adapter'
import {
  describeExport,
  environment,
  findExport,
  type GraphLayout,
  layoutGraph,
  operatorAddresses,
  type PoolPlan,
  planGraph,
} from '@bento/core/serve'
import { formatProbe, probe } from '@bento/native'
import { resolveEntry } from '../entry.ts'
import { CliError } from '../errors.ts'
import { importModule } from '../load.ts'

/** `bento info`'s flags. */
export interface InfoOptions {
  json: boolean
  workers: number | undefined
  /** `--service`: plan one service of the graph alone. */
  service?: string | undefined
  /** `--depends`: dependencies served elsewhere, not planned here. */
  depends?: Record<string, string>
}

/**
 * `bento info [entry]`: what the probe sees (CPU quota and its file, memory limit, GPUs) and, for
 * the entry (a file, a directory, or the current directory when it holds a service), the worker
 * plan of every service it serves (the entry's, and each dependency served here) with its
 * reasons and each worker's GPUs and variables, from one GPU ledger. The entry is described in
 * this process by the same rules as `bento serve`'s deployment process.
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
  let pools: { name: string; plan: PoolPlan }[] = []
  let layout: GraphLayout | undefined
  if (file !== undefined) {
    const description = describeExport(findExport(await importModule(file), file))
    const env = environment()
    const addresses = operatorAddresses(env, options.depends, '--depends')
    layout = layoutGraph(description, { service: options.service, addresses })
    const planned = planGraph(layout, {
      probe: machine,
      env,
      ...(options.workers !== undefined && {
        workers: { count: options.workers, source: '--workers' },
      }),
    })
    const entryName =
      layout.entry.kind === 'service' ? layout.entry.services[0]!.name : relative(cwd, file)
    pools = [
      ...[...planned.local].map(([name, plan]) => ({ name, plan })),
      { name: entryName, plan: planned.entry },
    ]
  }
  if (options.json) {
    const shown = pools.map(({ name, plan }) => ({ name, plan: planJson(plan) }))
    const entry = shown.at(-1)
    const remote = layout === undefined ? {} : Object.fromEntries(layout.remote)
    const body =
      entry === undefined ? machine : { ...machine, plan: entry.plan, services: shown, remote }
    print(JSON.stringify(body, null, 2))
    return
  }
  print(formatProbe(machine))
  for (const { name, plan } of pools) {
    const count = plan.workers
    const title = pools.length === 1 ? 'plan   ' : `plan    ${name}:`
    print(`\n${title} ${count} worker${count === 1 ? '' : 's'}`)
    for (const reason of plan.reasons) print(`        ${reason}`)
    for (const warning of plan.warnings) print(`warning ${warning}`)
    for (const assignment of plan.assignments) {
      const gpus = assignment.gpus.length === 0 ? 'no GPU' : assignment.gpus.join(', ')
      print(
        `worker ${assignment.workerIndex}: ${gpus}, ${assignment.threads} thread${assignment.threads === 1 ? '' : 's'}`
      )
    }
  }
  for (const [name, url] of layout?.remote ?? []) print(`\nremote  ${name} at ${url}`)
  const total = pools.reduce((n, p) => n + p.plan.workers, 0)
  if (pools.length > 0 && machine.memory.limit !== null) {
    print(
      `memory  ${formatBytes(machine.memory.limit)} limit shared by ${total} worker${total === 1 ? '' : 's'}`
    )
  }
}

function planJson(plan: PoolPlan) {
  return {
    workers: plan.workers,
    reasons: plan.reasons,
    warnings: plan.warnings,
    assignments: plan.assignments.map(({ workerIndex, gpus, threads, env }) => ({
      workerIndex,
      gpus,
      threads,
      env,
    })),
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
