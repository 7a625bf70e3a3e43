// The deployment process: the one process, besides the workers, that imports the user's entry.
// It describes the entry (what the supervisor plans and supervises from), waits while the
// supervisor plans and claims the port, runs every onDeployment hook when told to, and exits,
// taking whatever model libraries the entry loaded with it. The supervisor stays small.
import { environment } from '../env.ts'
import { EntryError } from '../errors.ts'
import { currentRuntime } from '../runtime/index.ts'
import type { ChildHandle } from '../runtime/types.ts'
import type { Channel } from '../supervisor/ipc.ts'
import { listenIpc } from '../supervisor/ipc.ts'
import { pumpLines } from '../supervisor/lines.ts'
import type { Logger } from '../supervisor/logger.ts'
import type { SupervisorMessage, WorkerMessage } from '../supervisor/protocol.ts'
import { describeExit } from '../supervisor/worker-process.ts'
import { VARS } from '../vars.ts'
import type { EntryDescription } from './describe.ts'

/** What starts the deployment process. */
export interface DeploymentOptions {
  /** The module it runs (the adapter's worker module). */
  workerModule: string
  /** The entry it imports, and how messages name it. */
  entry: string
  source: string
  execArgv: readonly string[]
  env: Record<string, string>
  cwd: string
  logger: Logger
}

/** A described entry, its deployment still to run. */
export interface Deployment {
  readonly description: EntryDescription
  /**
   * Runs the onDeployment hooks of `services`, in order (in the deployment process); rejects
   * with a hook's error.
   */
  deploy(services: readonly string[]): Promise<void>
  /** Ends the deployment process without running anything. */
  done(): void
}

// Enough of a failed process's stderr to show its stack trace.
const TAIL_LINES = 20
// How long an ended deployment process's IPC connection may take to deliver its last message.
const IPC_GRACE_MS = 1000

/**
 * Starts the deployment process and resolves once it has described the entry; rejects, with the
 * reason, when the entry can't be loaded or exports nothing to serve.
 * @example
 * const deployment = await startDeployment({ workerModule, entry, source: entry, ... })
 * plan(deployment.description)
 */
export async function startDeployment(options: DeploymentOptions): Promise<Deployment> {
  let channel: Channel<WorkerMessage, SupervisorMessage> | undefined
  let onMessage: (message: WorkerMessage) => void = () => {}
  let channelClosed = () => {}
  const closed = new Promise<void>((resolve) => {
    channelClosed = resolve
  })
  const ipc = await listenIpc((ch) => {
    channel = ch
    ch.onMessage((message) => onMessage(message))
    ch.onClose(() => channelClosed())
  })
  const stderr: string[] = []
  let child: ChildHandle
  try {
    child = currentRuntime().spawn({
      entry: options.workerModule,
      execArgv: options.execArgv,
      env: {
        ...environment(),
        ...options.env,
        [VARS.ipc]: ipc.path,
        [VARS.role]: 'deploy',
        [VARS.entry]: options.entry,
        [VARS.source]: options.source,
      },
      cwd: options.cwd,
    })
  } catch (error) {
    ipc.close()
    throw error
  }
  const output = Promise.all([
    pumpLines(child.stdout, (line) => options.logger.output('deploy', 'stdout', line)),
    pumpLines(child.stderr, (line) => {
      options.logger.output('deploy', 'stderr', line)
      stderr.push(line)
      if (stderr.length > TAIL_LINES) stderr.shift()
    }),
  ])
  const exited = child.exited.then(async (status) => {
    await output
    // Its last message (why it could not load the entry) may still be on its way: the exit and
    // the IPC socket's data are separate events, in no set order. The connection closes after
    // its data; a process that never connected gets a moment to be seen doing so.
    let timer: ReturnType<typeof setTimeout> | undefined
    await Promise.race([
      closed,
      new Promise((resolve) => (timer = setTimeout(resolve, IPC_GRACE_MS))),
    ])
    clearTimeout(timer)
    ipc.close()
    return status
  })
  // Whatever the process says next, or how it ended.
  const next = () =>
    new Promise<WorkerMessage>((resolve, reject) => {
      onMessage = (message) => {
        if (message.type === 'error') {
          const error = new EntryError(message.message)
          if (message.stack) error.stack = message.stack
          reject(error)
        } else resolve(message)
      }
      void exited.then((status) => {
        const tail = stderr.length > 0 ? `:\n${stderr.join('\n')}` : ''
        reject(new Error(`the deployment process ${describeExit(status)}${tail}`))
      })
    })
  const described = await next().catch((error: Error) => {
    child.kill('SIGKILL')
    throw error
  })
  if (described.type !== 'described') {
    child.kill('SIGKILL')
    throw new Error(`the deployment process said ${described.type} before describing the entry`)
  }
  return {
    description: described.description as EntryDescription,
    async deploy(services) {
      const reply = next()
      await channel?.send({ type: 'deploy', services: [...services] })
      const message = await reply
      if (message.type !== 'deployed')
        throw new Error(`the deployment process said ${message.type}`)
      await exited
    },
    done() {
      void channel?.send({ type: 'done' })
    },
  }
}
