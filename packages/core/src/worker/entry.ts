// The module every process started by `serve()` runs (through an adapter's worker module, such as
// `bento/worker`): it imports the user's entry ($BENTO_ENTRY) and either serves it as a worker, or,
// as the deployment process ($BENTO_ROLE=deploy), describes it to the supervisor and runs its
// onDeployment hooks when told to. Only these processes import user code, never the supervisor.
import process from 'node:process'
import { readEnv } from '../env.ts'
import type { FetchHandler } from '../runtime/types.ts'
import { serviceGraph } from '../service/graph.ts'
import type { Service } from '../service/types.ts'
import { describeExport, entryServices } from '../serving/describe.ts'
import { type EntryExport, findExport } from '../serving/entry.ts'
import { connectIpc } from '../supervisor/ipc.ts'
import { VARS } from '../vars.ts'
import { withPermissionHint } from './permission-hint.ts'
import { runWorker } from './worker.ts'

/** How the entry is loaded and served: what the HTTP adapter and the module loader provide. */
export interface RunEntryOptions {
  /** Imports the entry module (on Node, the CLI compiles or hooks TypeScript). */
  load: (file: string) => Promise<Record<string, unknown>>
  /** A service's fetch handler (the HTTP adapter: `(s) => toHono(s).fetch`). */
  toFetch: (service: Service) => FetchHandler
}

/**
 * Loads `$BENTO_ENTRY` and serves it as a worker, or deploys it (see the module comment).
 * @example
 * await runEntry({ load: (file) => import(file), toFetch: (s) => toHono(s).fetch })
 */
export async function runEntry(options: RunEntryOptions): Promise<void> {
  const file = readEnv(VARS.entry)
  if (file === undefined) {
    throw new Error(
      `${VARS.entry} is not set: this module is started by serve() (bento dev, bento serve), not by hand`
    )
  }
  const source = readEnv(VARS.source) ?? file
  const deploying = readEnv(VARS.role) === 'deploy'
  if (!deploying && readEnv(VARS.standby) === '1') await standBy(options)
  let found: EntryExport
  let services: Service[]
  let all: Map<string, Service>
  try {
    found = findExport(await options.load(file), source)
    services = entryServices(found)
    // Every service of the graph, by name: a worker may serve any of them ($BENTO_SERVICE).
    all = new Map([...services, ...serviceGraph(services)].map((s) => [s.name, s]))
  } catch (error) {
    return failed(deploying, source, error)
  }
  if (deploying) return deploy(found, all)
  const only = readEnv(VARS.service)
  if (only !== undefined) {
    const service = all.get(only)
    if (service === undefined) {
      return failed(deploying, source, new Error(`${source} does not serve a service "${only}"`))
    }
    await runWorker({ fetch: options.toFetch(service), services: [service] })
    return
  }
  const fetch = found.kind === 'service' ? options.toFetch(found.service) : found.fetch
  await runWorker({ fetch, services })
}

// An entry that can't be loaded: said once, on one line, where the supervisor looks for it.
async function failed(deploying: boolean, source: string, error: unknown): Promise<never> {
  const message = withPermissionHint(error, error instanceof Error ? error.message : String(error))
  // A mistake in a definition says where it is itself; anything else happened loading the file.
  const said = message.startsWith(source) || (error as Error | null)?.name === 'BentoConfigError'
  const text = said ? message : `could not load ${source}: ${message}`
  const ipc = readEnv(VARS.ipc)
  if (deploying && ipc !== undefined) {
    const channel = await connectIpc(ipc).catch(() => undefined)
    await channel?.send({
      type: 'error',
      message: text,
      ...(error instanceof Error && error.stack ? { stack: error.stack } : {}),
    })
  } else console.error(text)
  process.exit(1)
}

// A warm standby: the runtime, bento (this module's imports) and the packages the entry imports
// ($BENTO_PRELOAD) are loaded ahead, so that when the supervisor says `go` only the user's own
// code is left to import. The entry's external imports run before its own code in any case, in
// the order the preload lists them, so loading them early changes when they run, not what runs.
async function standBy(options: RunEntryOptions): Promise<void> {
  const ipc = readEnv(VARS.ipc)
  const id = readEnv(VARS.workerId)
  if (ipc === undefined || id === undefined) return
  const channel = await connectIpc(ipc).catch(() => undefined)
  // No supervisor (it ended while this process booted): nothing will ever say go.
  if (channel === undefined) process.exit(0)
  let going = false
  const go = new Promise<void>((resolve) => {
    channel.onMessage((message) => {
      if (message.type !== 'go') return
      going = true
      resolve()
    })
  })
  // The supervisor went away (or dropped this standby): nothing will ever say go.
  channel.onClose(() => {
    if (!going) process.exit(0)
  })
  await channel.send({ type: 'standby', id })
  const preload = readEnv(VARS.preload)
  // A package that fails to load fails again when the entry imports it, with the entry's message.
  if (preload !== undefined) await options.load(preload).catch(() => {})
  await go
  // From here on it is a worker like any other (runWorker refuses to start as a standby).
  delete process.env[VARS.standby]
  // The worker says hello on a connection of its own; this one has done its job.
  channel.close()
}

async function deploy(found: EntryExport, all: ReadonlyMap<string, Service>): Promise<void> {
  const ipc = readEnv(VARS.ipc)
  if (ipc === undefined) throw new Error(`${VARS.ipc} is not set: the deployment process needs it`)
  const channel = await connectIpc(ipc)
  channel.onClose(() => process.exit(1))
  channel.onMessage((message) => {
    if (message.type === 'done') process.exit(0)
    if (message.type !== 'deploy') return
    void (async () => {
      try {
        for (const name of message.services) await all.get(name)?.definition.onDeployment?.()
        await channel.send({ type: 'deployed' })
        process.exit(0)
      } catch (error) {
        const err = error instanceof Error ? error : new Error(String(error))
        await channel.send({
          type: 'error',
          message: err.message,
          ...(err.stack ? { stack: err.stack } : {}),
        })
        process.exit(1)
      }
    })()
  })
  await channel.send({ type: 'described', description: describeExport(found) })
}
