// One worker process as the supervisor sees it: spawned with its environment, its output logged
// with its index, its IPC connection once it says hello, and how it ended.

import type { ChildHandle, ExitStatus, Runtime, Signal } from '../runtime/index.ts'
import type { Channel } from './ipc.ts'
import { pumpLines } from './lines.ts'
import type { Logger } from './logger.ts'
import type { SupervisorMessage, WorkerMessage } from './protocol.ts'

/** Where a worker process is in its life. */
export type WorkerState = 'starting' | 'ready' | 'draining' | 'exited'

/** How to start one worker process. */
export interface WorkerSpec {
  index: number
  /** Unique per process (index and generation), sent back in `hello`. */
  id: string
  entry: string
  execArgv: readonly string[]
  env: Record<string, string>
  cwd: string
  listenFd: number | undefined
  logger: Logger
  /** Answers the worker's `gather` requests. */
  gather: (topic: string) => Promise<unknown[]>
  /**
   * Called when the worker was SIGKILLed by someone other than the supervisor: why, when that can
   * be told (the kernel's OOM killer), for the log and the crash-loop error.
   */
  explainKill?: () => string | undefined
}

// Enough of a crashed worker's stderr to show its stack trace.
const TAIL_LINES = 20
// A worker's last output, and its last IPC message (the error that ended it), may still be
// unread when its exit is reported: the exit waits for both to end, at most this long (a worker
// that never connected its IPC channel costs the whole wait).
const OUTPUT_SETTLE_MS = 500

/**
 * A running worker process; `ready` settles when it reports ready or ends before that, `exited`
 * when it is gone and its output is read.
 * @example
 * const worker = new WorkerProcess(runtime, spec)
 * await worker.ready
 */
export class WorkerProcess {
  readonly index: number
  readonly id: string
  readonly pid: number
  /** When it started (for a standby, when it was taken into service). */
  startedAt = new Date()
  state: WorkerState = 'starting'
  readyAt: Date | undefined
  /** Set once it was asked to drain: its exit is expected. */
  drainRequested = false
  /** True once it answered a request (its exit then never counts as a crash loop). */
  served = false
  /** Where an internal service's worker listens, from its `ready`. */
  endpoint: string | undefined
  /** Why it was SIGKILLed, when not by the supervisor and the cause is known. */
  killReason: string | undefined
  private killedBySupervisor = false
  readonly ready: Promise<void>
  readonly exited: Promise<ExitStatus>
  private readonly child: ChildHandle
  private readonly spec: WorkerSpec
  private channel: Channel<WorkerMessage, SupervisorMessage> | undefined
  private reported: { message: string; stack?: string } | undefined
  private readonly stderrTail: string[] = []
  private readonly asks = new Map<number, (value: { value?: unknown }) => void>()
  private nextAsk = 0
  private killTimer: ReturnType<typeof setTimeout> | undefined
  private settleReady: ((error?: Error) => void) | undefined
  private standbyChannel: Channel<WorkerMessage, SupervisorMessage> | undefined
  private taken = false
  private channelEnded: (() => void) | undefined

  constructor(runtime: Runtime, spec: WorkerSpec) {
    this.spec = spec
    this.index = spec.index
    this.id = spec.id
    this.child = spawnOrFail(runtime, spec)
    this.pid = this.child.pid
    this.ready = new Promise<void>((resolve, reject) => {
      this.settleReady = (error) => {
        this.settleReady = undefined
        if (error) reject(error)
        else resolve()
      }
    })
    this.ready.catch(() => {}) // Whoever awaits it sees the rejection; nobody else must.
    const { logger } = spec
    const output = Promise.all([
      pumpLines(this.child.stdout, (line) => logger.output(spec.index, 'stdout', line)),
      pumpLines(this.child.stderr, (line) => {
        logger.output(spec.index, 'stderr', line)
        this.stderrTail.push(line)
        if (this.stderrTail.length > TAIL_LINES) this.stderrTail.shift()
      }),
    ])
    // Ends when the worker's IPC channel closes, after every message it sent was handled.
    const ipc = new Promise<void>((resolve) => {
      this.channelEnded = resolve
    })
    this.exited = this.child.exited.then(async (status) => {
      // The settle timer is cleared once done: left pending, it would keep a stopped supervisor's
      // process alive for its whole length.
      let settle: ReturnType<typeof setTimeout> | undefined
      await Promise.race([
        Promise.all([output, ipc]),
        new Promise((r) => {
          settle = setTimeout(r, OUTPUT_SETTLE_MS)
        }),
      ])
      clearTimeout(settle)
      clearTimeout(this.killTimer)
      if (status.signal === 'SIGKILL' && !this.killedBySupervisor) {
        this.killReason = spec.explainKill?.()
      }
      const wasStarting = this.state === 'starting'
      this.state = 'exited'
      this.channel?.close()
      for (const resolve of this.asks.values()) resolve({})
      if (wasStarting) this.settleReady?.(this.failure(status))
      return status
    })
  }

  /** The runtime's handle on the process (what the port sharing hands connections to). */
  get handle(): ChildHandle {
    return this.child
  }

  /** Binds the worker's IPC connection after its `hello`. */
  attach(channel: Channel<WorkerMessage, SupervisorMessage>): void {
    this.channel = channel
    if (channel.closed) this.channelEnded?.()
    else channel.onClose(() => this.channelEnded?.())
    // A drain decided before the worker connected still has to reach it.
    if (this.state === 'draining') void channel.send({ type: 'drain' })
  }

  /** (A warm standby.) Binds the connection it waits on; says `go` at once if already taken. */
  hold(channel: Channel<WorkerMessage, SupervisorMessage>): void {
    this.standbyChannel = channel
    // Dropped before it was taken, its exit need not wait for a worker's last messages.
    channel.onClose(() => {
      if (!this.taken) this.channelEnded?.()
    })
    if (this.taken) void channel.send({ type: 'go' })
  }

  /** (A warm standby.) Takes it into service: it imports the entry and says hello as a worker. */
  go(): void {
    this.taken = true
    this.startedAt = new Date()
    if (this.standbyChannel) void this.standbyChannel.send({ type: 'go' })
  }

  /** Handles a message from this worker (after `hello`). */
  receive(message: WorkerMessage): void {
    switch (message.type) {
      case 'ready':
        if (this.state !== 'starting') return
        this.state = 'ready'
        this.readyAt = new Date()
        if (typeof message.endpoint === 'string') this.endpoint = message.endpoint
        this.settleReady?.()
        return
      case 'error':
        this.reported = { message: String(message.message), stack: message.stack }
        this.spec.logger.log(
          'error',
          `failed to start: ${message.stack ?? message.message}`,
          this.index
        )
        return
      case 'answer':
        this.asks.get(message.id)?.(message)
        return
      case 'served':
        this.served = true
        return
      case 'gather':
        void this.spec
          .gather(message.topic)
          .then((values) => this.channel?.send({ type: 'gathered', id: message.id, values }))
        return
    }
  }

  /**
   * Asks the worker to drain (over IPC, or SIGTERM before it connected) and SIGKILLs it if it is
   * still there after `killAfterMs`.
   */
  drain(killAfterMs: number): void {
    if (this.state === 'draining' || this.state === 'exited') return
    const wasStarting = this.state === 'starting'
    this.state = 'draining'
    this.drainRequested = true
    if (wasStarting)
      this.settleReady?.(new Error(`worker ${this.index} was stopped while starting`))
    if (this.channel) void this.channel.send({ type: 'drain' })
    else this.child.kill('SIGTERM')
    this.killTimer = setTimeout(() => {
      this.spec.logger.log(
        'warn',
        `still running ${Math.round(killAfterMs / 1000)} s after drain; killing it`,
        this.index
      )
      this.kill('SIGKILL')
    }, killAfterMs)
  }

  kill(signal: Signal): void {
    if (signal === 'SIGKILL') this.killedBySupervisor = true
    this.child.kill(signal)
  }

  /** How it ended, in words: its exit code, or the signal and, when known, who sent it. */
  describe(status: ExitStatus): string {
    return this.killReason === undefined ? describeExit(status) : `was ${this.killReason}`
  }

  /** The worker's answer to `topic`; `{}` (no `value`) when it has none or doesn't answer in time. */
  ask(topic: string, timeoutMs: number): Promise<{ value?: unknown }> {
    const channel = this.channel
    if (!channel || this.state !== 'ready') return Promise.resolve({})
    const id = ++this.nextAsk
    return new Promise((resolve) => {
      const timer = setTimeout(() => done({}), timeoutMs)
      const done = (answer: { value?: unknown }) => {
        clearTimeout(timer)
        this.asks.delete(id)
        resolve(answer)
      }
      this.asks.set(id, done)
      void channel.send({ type: 'ask', id, topic })
    })
  }

  /**
   * Why the worker ended, as an error: what it reported over IPC, else the end of its stderr,
   * else its exit code or signal.
   */
  failure(status: ExitStatus): Error {
    const how = this.describe(status)
    if (this.killReason !== undefined) return new Error(how)
    if (this.reported) {
      const error = new Error(this.reported.message)
      if (this.reported.stack) error.stack = this.reported.stack
      return error
    }
    if (this.stderrTail.length > 0) return new Error(`${how}:\n${this.stderrTail.join('\n')}`)
    if (this.readyAt === undefined && status.code === 0) {
      return new Error(`${how} before it was ready; does the worker entry call runWorker()?`)
    }
    return new Error(how)
  }
}

/**
 * `exited with code 1`, `was killed by SIGKILL` or `could not be started: ...`.
 * @example
 * describeExit({ code: null, signal: 'SIGKILL' }) // 'was killed by SIGKILL'
 */
export function describeExit(status: ExitStatus): string {
  if (status.error) return `could not be started: ${status.error.message}`
  if (status.signal) return `was killed by ${status.signal}`
  return `exited with code ${status.code}`
}

// Bun.spawn and Deno.Command throw at once when the executable is missing; node:child_process
// reports it later. Either way it becomes an exit, so it is handled like any other.
function spawnOrFail(runtime: Runtime, spec: WorkerSpec): ChildHandle {
  try {
    return runtime.spawn({
      entry: spec.entry,
      execArgv: spec.execArgv,
      env: spec.env,
      cwd: spec.cwd,
      listenFd: spec.listenFd,
    })
  } catch (error) {
    const empty = (async function* () {})()
    return {
      pid: 0,
      stdout: empty,
      stderr: empty,
      kill() {},
      exited: Promise.resolve({
        code: null,
        signal: null,
        error: error instanceof Error ? error : new Error(String(error)),
      }),
    }
  }
}
