// @bento/core/supervisor: runs a service's workers, one process each, on one public port; restarts
// the ones that crash, replaces them one by one on reload, and drains them on shutdown. It knows
// nothing of HTTP frameworks: a worker is any module that calls runWorker() with a fetch handler.
import { rmSync } from 'node:fs'
import process from 'node:process'
import { type MemoryInfo, probe } from '@bento/native'
import { currentRuntime, type ExitStatus, type Runtime, type SharedPort } from '../runtime/index.ts'
import { migrateReqHint } from '../runtime/port.ts'
import { VARS } from '../vars.ts'
import { type AdminServer, listenAdmin } from './admin.ts'
import { type Channel, type IpcServer, listenIpc } from './ipc.ts'
import { type OomCounter, oomCounter, oomReason } from './memory.ts'
import { type ResolvedOptions, resolveOptions, type SuperviseOptions } from './options.ts'
import {
  GRAPH_TOPIC_PREFIX,
  SUPERVISOR_TOPIC,
  type SupervisorMessage,
  type SupervisorStats,
  type WorkerMessage,
} from './protocol.ts'
import { MemoryRecycler } from './recycle.ts'
import { Replacer } from './replace.ts'
import {
  crashLoopError,
  killedFromOutside,
  type RestartTracker,
  restartDelay,
  restartTracker,
} from './restarts.ts'
import { adminSocket, internalSocket, workerEnv } from './worker-env.ts'
import { WorkerProcess } from './worker-process.ts'

/** One worker process as `workers()` reports it: each index, plus processes still draining. */
export interface WorkerProcessInfo {
  workerIndex: number
  /** `null` while it waits to be restarted. */
  pid: number | null
  status: 'starting' | 'ready' | 'draining' | 'restarting'
  /** Restarts after unexpected exits (a reload is not counted). */
  restarts: number
  /** When the current process started; `null` while it waits to be restarted. */
  startedAt: Date | null
}

/** How `reload()` replaces the workers. */
export interface ReloadOptions {
  /**
   * Start every new worker as a new process, not from its warm standby (`standby`): the packages
   * a standby loaded ahead changed on disk (an install).
   */
  fresh?: boolean
}

/** How the supervisor ended: 0 after a stop, non-zero with the error that ended it. */
export interface SupervisorExit {
  code: number
  error?: Error
}

/** A running supervisor. */
export interface Supervisor {
  /** Resolves once every worker has been ready; rejects if the supervisor ends first. */
  readonly ready: Promise<void>
  /** The public port, once bound (so always after `ready`). */
  readonly port: number | undefined
  /** The admin port (`adminPort`), once bound. */
  readonly adminPort: number | undefined
  /** The runtime the workers run in. */
  readonly runtime: Runtime['name']
  /** Every worker index, plus workers still draining after a reload. */
  workers(): WorkerProcessInfo[]
  /**
   * Replaces the workers one index at a time: start the new one, wait for it to be ready, drain
   * the old one. If a new one fails to start, stops there, keeps the old ones serving and
   * rejects with the new one's error. Resolves once every index runs a new worker.
   */
  reload(options?: ReloadOptions): Promise<void>
  /** Stops restarting, drains every worker (SIGKILL after the drain timeout), then ends with 0. */
  stop(): Promise<SupervisorExit>
  /** Ends at once: SIGKILLs every worker (a second Ctrl-C). */
  kill(): Promise<SupervisorExit>
  /** Every ready worker's answer to `topic`, as `serverContext.gather` gets it in a worker. */
  gather(topic: string): Promise<unknown[]>
  /** Restarts by cause and memory recycles so far, as `/metrics` shows them. */
  stats(): SupervisorStats
  /** Where the ready workers of an `internal` service take calls (`unix:/path`, `http://…`). */
  endpoints(): string[]
  /** Tells every worker, now and as they start, where the ready workers of `service` are. */
  setPeers(service: string, endpoints: string[]): void
  /** Resolves when the supervisor has ended and released the port. */
  readonly exited: Promise<SupervisorExit>
}

interface Slot {
  index: number
  env: Record<string, string>
  current: WorkerProcess | undefined
  generation: number
  restarts: number
  tracker: RestartTracker
  timer: ReturnType<typeof setTimeout> | undefined
  readyOnce: () => void
  /** The replacement in progress (a reload or a memory recycle); one at a time per index. */
  replacing: Promise<void>
  /** Memory checks in a row that found the current worker above `maxMemory`. */
  over: number
  /** True from the moment a memory recycle is queued until it settled: no second one is queued. */
  recycling: boolean
  /** True while `timer` waits out the backoff of a stable exit (one that may be cut short). */
  waitingStable: boolean
  /** A warm process for the next generation (`standby`), loaded up to the entry's import. */
  standby: WorkerProcess | undefined
}

/**
 * Starts the workers and returns at once; installs no signal handlers (see `runSupervisor`).
 * @example
 * const supervisor = supervise({
 *   workerEntry: new URL('./worker.js', import.meta.url),
 *   assignments: [{ workerIndex: 1, env: {} }, { workerIndex: 2, env: {} }],
 *   port: 3000,
 * })
 * await supervisor.ready
 */
export function supervise(options: SuperviseOptions): Supervisor {
  const runtime = currentRuntime()
  return new SupervisorImpl(runtime, resolveOptions(options, runtime))
}

/**
 * `supervise()` for a process of its own: SIGTERM/SIGINT stop it gracefully (a second one kills
 * the workers at once), SIGHUP reloads it, and the process exits with the supervisor's code.
 * @example
 * runSupervisor({ workerEntry: './worker.js', assignments: plan.assignments, port: 3000 })
 */
export function runSupervisor(options: SuperviseOptions): Supervisor {
  return handleSignals(supervise(options))
}

/**
 * Makes `supervisor` the process's own: SIGTERM/SIGINT stop it (a second one kills), SIGHUP
 * reloads it, and the process exits with its code when it ends.
 */
export function handleSignals<S extends Pick<Supervisor, 'stop' | 'kill' | 'reload' | 'exited'>>(
  supervisor: S
): S {
  const runtime = currentRuntime()
  let stops = 0
  const stop = () => {
    stops += 1
    void (stops === 1 ? supervisor.stop() : supervisor.kill())
  }
  const removers = [
    runtime.onSignal('SIGTERM', stop),
    runtime.onSignal('SIGINT', stop),
    // reload() logs its own failure; the old workers keep serving.
    runtime.onSignal('SIGHUP', () => void supervisor.reload().catch(() => {})),
  ]
  void supervisor.exited.then(({ code }) => {
    for (const remove of removers) remove()
    process.exit(code)
  })
  return supervisor
}

class SupervisorImpl implements Supervisor {
  readonly ready: Promise<void>
  readonly exited: Promise<SupervisorExit>
  readonly runtime: Runtime['name']
  private readonly adapter: Runtime
  private readonly o: ResolvedOptions
  private readonly slots: Slot[]
  private readonly processes = new Map<string, WorkerProcess>()
  private readonly counters: SupervisorStats = { restarts: {}, recycles: {} }
  private readonly peers = new Map<string, string[]>()
  private readonly channels = new Set<Channel<WorkerMessage, SupervisorMessage>>()
  private shownEndpoints = ''
  private ipc: IpcServer | undefined
  private shared: SharedPort | undefined
  private admin: AdminServer | undefined
  private adminTurn = -1
  private boundPort: number | undefined
  private memory: MemoryInfo | undefined
  private oom: OomCounter | undefined
  private recycler: MemoryRecycler<Slot> | undefined
  private readonly replacer: Replacer<Slot, WorkerProcess>
  private stopping = false
  private killed = false
  private finished = false
  private reloading: Promise<void> = Promise.resolve()
  private resolveReady!: () => void
  private rejectReady!: (error: Error) => void
  private resolveExited!: (exit: SupervisorExit) => void

  constructor(runtime: Runtime, options: ResolvedOptions) {
    this.adapter = runtime
    this.runtime = runtime.name
    this.o = options
    this.ready = new Promise((resolve, reject) => {
      this.resolveReady = resolve
      this.rejectReady = reject
    })
    this.ready.catch(() => {}) // Rejected when the supervisor ends first; `exited` says why.
    this.exited = new Promise((resolve) => {
      this.resolveExited = resolve
    })
    const readies: Promise<void>[] = []
    this.slots = options.assignments.map((assignment) => {
      let readyOnce!: () => void
      readies.push(new Promise((resolve) => (readyOnce = resolve)))
      return {
        index: assignment.workerIndex,
        env: assignment.env,
        current: undefined,
        generation: 0,
        restarts: 0,
        tracker: restartTracker(options.restart),
        timer: undefined,
        readyOnce,
        replacing: Promise.resolve(),
        over: 0,
        recycling: false,
        waitingStable: false,
        standby: undefined,
      }
    })
    this.replacer = new Replacer({
      slots: this.slots,
      ready: this.ready,
      ending: () => this.stopping || this.finished,
      log: (level, msg, worker) => this.log(level, msg, worker),
      spawn: (slot) => this.spawn(slot),
      admit: (worker) => this.admit(worker),
      drain: (worker) => this.drain(worker),
      standBy: (slot) => this.standBy(slot),
    })
    void this.start(Promise.all(readies))
  }

  get port(): number | undefined {
    return this.boundPort
  }

  private log(level: 'info' | 'warn' | 'error', msg: string, worker?: number) {
    this.o.logger.log(level, msg, worker)
  }

  private async start(allReady: Promise<unknown>) {
    const started = Date.now()
    try {
      this.ipc = await listenIpc((ch) => this.connect(ch))
      if (this.stopping) return this.release()
      // The port before onDeployment: a busy port should fail before a long model download.
      if (this.o.internal === undefined) {
        this.shared = await this.adapter.sharePort(this.o.host, this.o.port, this.o.portSharing)
        if (this.stopping) return this.release()
        this.boundPort = this.shared.port
      }
      if (this.o.internal === undefined && this.o.adminPort !== undefined) {
        this.admin = await listenAdmin(this.o.host, this.o.adminPort, () => this.adminSocket())
        if (this.stopping) return this.release()
        this.log('info', `admin (health, metrics) on http://${this.o.host}:${this.admin.port}`)
      }
      if (this.o.internal === undefined && this.o.portSharing === 'reuseport') {
        const hint = migrateReqHint()
        if (hint) this.log('warn', hint)
      }
      this.watchMemory()
      if (this.o.onDeployment) {
        this.log('info', 'running onDeployment')
        await this.o.onDeployment()
        if (this.stopping) return this.release()
      }
      const how = {
        'round-robin': 'round-robin',
        'shared-socket': 'one shared socket',
        reuseport: 'SO_REUSEPORT',
      }[this.o.portSharing]
      const where =
        this.o.internal === undefined
          ? `on http://${this.o.host}:${this.shared!.port} (${how})`
          : this.o.internal.transport === 'unix'
            ? `on private Unix sockets in ${this.o.internal.dir}`
            : 'on private ports of 127.0.0.1'
      this.log('info', `starting ${this.slots.length} ${this.adapter.name} workers ${where}`)
      for (const slot of this.slots) this.startSlot(slot)
      await allReady
      if (this.stopping) return
      this.log('info', `all ${this.slots.length} workers ready in ${Date.now() - started} ms`)
      this.resolveReady()
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      this.log('error', err.message)
      void this.shutdown(1, err)
    }
  }

  // The cgroup's OOM counter (to name the OOM killer when it SIGKILLs a worker), and with
  // maxMemory the recycler's periodic look at every worker's resident memory.
  private watchMemory() {
    this.memory = probe({ gpu: false }).memory
    this.oom = oomCounter(this.memory)
    const max = this.o.maxMemory
    if (max === undefined) return
    this.recycler = new MemoryRecycler(max, this.o.memoryCheckInterval, {
      slots: this.slots,
      stopping: () => this.stopping,
      log: (level, msg, worker) => this.log(level, msg, worker),
      replace: (slot, why) => this.replacer.replaceQueued(slot, why),
      recycled: () => this.count('recycles', 'memory'),
    })
    this.recycler.start()
  }

  private count(kind: keyof SupervisorStats, reason: string) {
    const table = this.counters[kind]
    table[reason] = (table[reason] ?? 0) + 1
  }

  stats(): SupervisorStats {
    return structuredClone(this.counters)
  }

  // The slot's next worker: its standby when one waits (told to go), else a new process.
  private spawn(slot: Slot): WorkerProcess {
    let worker = slot.standby
    slot.standby = undefined
    slot.generation += 1
    const id = `${slot.index}.${slot.generation}`
    if (worker !== undefined && worker.state === 'starting' && worker.id === id) worker.go()
    else {
      worker?.kill('SIGKILL')
      worker = this.launch(slot, id, false)
    }
    this.processes.set(id, worker)
    return worker
  }

  // Once a slot's worker is ready, a standby for its next generation (when asked for), so that a
  // reload, recycle or restart costs the entry's own import and onStartup, not a process start.
  private standBy(slot: Slot) {
    if (!this.o.standby || this.stopping || slot.standby !== undefined) return
    slot.standby = this.launch(slot, `${slot.index}.${slot.generation + 1}`, true)
  }

  private launch(slot: Slot, id: string, standby: boolean): WorkerProcess {
    const oom = this.oom
    const oomBefore = oom?.read()
    const worker = new WorkerProcess(this.adapter, {
      index: slot.index,
      id,
      entry: this.o.workerEntry,
      execArgv: this.o.execArgv,
      env: {
        ...workerEnv(this.o, slot, id, {
          count: this.slots.length,
          ipc: this.ipc!.path,
          port: this.shared?.port,
        }),
        ...(standby && { [VARS.standby]: '1' }),
      },
      cwd: this.o.cwd,
      listenFd: this.shared?.fd,
      logger: this.o.logger,
      gather: (topic) => this.gather(topic),
      explainKill: () =>
        oom && this.memory
          ? oomReason(oom, oomBefore, oom.read(), this.memory, this.slots.length)
          : undefined,
    })
    void worker.exited.then((status) => {
      if (slot.standby === worker) slot.standby = undefined
      // A standby dropped before it was taken was never listed, and another may have its id.
      if (this.processes.get(id) !== worker) return
      this.processes.delete(id)
      if (this.o.internal?.transport === 'unix')
        rmSync(internalSocket(this.o.internal.dir, id), { force: true })
      this.exitedWorker(slot, worker, status)
    })
    return worker
  }

  endpoints(): string[] {
    const endpoints: string[] = []
    for (const slot of this.slots) {
      const worker = slot.current
      if (worker?.state === 'ready' && worker.endpoint !== undefined)
        endpoints.push(worker.endpoint)
    }
    return endpoints
  }

  // Called wherever a worker starts or stops taking connections.
  private endpointsChanged() {
    if (this.o.internal === undefined || this.o.onEndpoints === undefined) return
    const endpoints = this.endpoints()
    const shown = endpoints.join(' ')
    if (shown === this.shownEndpoints) return
    this.shownEndpoints = shown
    this.o.onEndpoints(endpoints)
  }

  setPeers(service: string, endpoints: string[]): void {
    this.peers.set(service, [...endpoints])
    for (const ch of this.channels) void ch.send({ type: 'peers', service, endpoints })
  }

  private admit(worker: WorkerProcess) {
    this.shared?.admit(worker.handle)
    this.endpointsChanged()
  }

  private withdraw(worker: WorkerProcess) {
    this.shared?.withdraw(worker.handle)
    this.endpointsChanged()
  }

  private startSlot(slot: Slot) {
    const worker = this.spawn(slot)
    slot.current = worker
    worker.ready.then(
      () => {
        this.log('info', `ready (pid ${worker.pid})`, slot.index)
        if (slot.current === worker) this.admit(worker)
        slot.readyOnce()
        this.standBy(slot)
      },
      () => {}
    )
  }

  /** Stops routing connections to `worker` and asks it to drain. */
  private drain(worker: WorkerProcess) {
    worker.drain(this.killAfterMs())
    this.withdraw(worker)
  }

  private connect(ch: Channel<WorkerMessage, SupervisorMessage>) {
    let worker: WorkerProcess | undefined
    ch.onMessage((message) => {
      if (worker) return worker.receive(message)
      if (message.type === 'standby') {
        // Waiting, or already taken (a reload came before it connected).
        const standby =
          this.slots.find((slot) => slot.standby?.id === message.id)?.standby ??
          this.processes.get(message.id)
        return standby ? standby.hold(ch) : ch.close()
      }
      // The id, not the pid, says which process this is: during a reload two processes share
      // an index, and the pid of a process we spawned through a wrapper may not be its own.
      const known = message.type === 'hello' ? this.processes.get(message.id) : undefined
      if (!known) return ch.close()
      worker = known
      worker.attach(ch)
      // Where its dependencies are, before it runs onStartup: its first call finds them.
      this.channels.add(ch)
      ch.onClose(() => this.channels.delete(ch))
      for (const [service, endpoints] of this.peers) {
        void ch.send({ type: 'peers', service, endpoints })
      }
    })
  }

  private exitedWorker(slot: Slot, worker: WorkerProcess, status: ExitStatus) {
    if (this.stopping || this.finished) return
    if (worker.drainRequested) {
      this.log('info', `pid ${worker.pid} drained and ${worker.describe(status)}`, slot.index)
      return
    }
    // A replacement that failed during a reload or a recycle: whoever replaced reports it.
    if (slot.current !== worker) return
    slot.current = undefined
    this.withdraw(worker)
    const error = worker.failure(status)
    const now = Date.now()
    const decision = slot.tracker.exited({
      uptimeMs: now - worker.startedAt.getTime(),
      readyForMs: worker.readyAt === undefined ? undefined : now - worker.readyAt.getTime(),
      served: worker.served,
      killed: killedFromOutside(status.signal),
    })
    this.count('restarts', worker.killReason === undefined ? 'crash' : 'oom')
    if (decision.crashLoop && !this.o.restart.keepRetrying) {
      const fatal = crashLoopError(slot.index, decision, this.o.restart, error)
      this.log('error', fatal.message)
      void this.shutdown(1, fatal)
      return
    }
    // With no other worker serving, every other one waiting out a backoff after a stable exit
    // comes back at once too.
    const othersServing = this.slots.some((s) => s !== slot && s.current?.state === 'ready')
    const delayMs = restartDelay(decision, othersServing)
    const alone = delayMs === decision.delayMs ? '' : ' (no other worker is serving)'
    this.log(
      'warn',
      `pid ${worker.pid} ${worker.describe(status)}; restarting in ${delayMs} ms${alone}`,
      slot.index
    )
    this.scheduleRestart(slot, delayMs, !decision.unstable)
    if (!othersServing) {
      for (const other of this.slots) {
        if (other !== slot && other.waitingStable) this.scheduleRestart(other, 0, true)
      }
    }
  }

  private scheduleRestart(slot: Slot, delayMs: number, stable: boolean) {
    clearTimeout(slot.timer)
    slot.waitingStable = stable
    slot.timer = setTimeout(() => {
      slot.timer = undefined
      slot.waitingStable = false
      if (this.stopping) return
      slot.restarts += 1
      this.startSlot(slot)
    }, delayMs)
  }

  workers(): WorkerProcessInfo[] {
    const snapshots: WorkerProcessInfo[] = []
    for (const slot of this.slots) {
      const w = slot.current
      snapshots.push({
        workerIndex: slot.index,
        pid: w ? w.pid : null,
        status: !w ? 'restarting' : w.state === 'exited' ? 'restarting' : w.state,
        restarts: slot.restarts,
        startedAt: w ? w.startedAt : null,
      })
    }
    for (const w of this.processes.values()) {
      const slot = this.slots.find((s) => s.index === w.index)
      if (slot?.current === w || w.state !== 'draining') continue
      snapshots.push({
        workerIndex: w.index,
        pid: w.pid,
        status: 'draining',
        restarts: slot?.restarts ?? 0,
        startedAt: w.startedAt,
      })
    }
    return snapshots
  }

  reload(options: ReloadOptions = {}): Promise<void> {
    const run = () => {
      if (options.fresh) this.dropStandbys()
      return this.replacer.rollingRestart()
    }
    this.reloading = this.reloading.then(run, run)
    return this.reloading
  }

  private killAfterMs() {
    return (this.o.drainTimeout + this.o.shutdownGrace) * 1000
  }

  async gather(topic: string): Promise<unknown[]> {
    if (topic === SUPERVISOR_TOPIC) return [this.stats()]
    if (topic.startsWith(GRAPH_TOPIC_PREFIX)) {
      return (await this.o.graphGather?.(topic.slice(GRAPH_TOPIC_PREFIX.length))) ?? []
    }
    const ready = this.slots
      .map((slot) => slot.current)
      .filter((w): w is WorkerProcess => w?.state === 'ready')
    const answers = await Promise.all(ready.map((w) => w.ask(topic, this.o.gatherTimeoutMs)))
    return answers.filter((answer) => 'value' in answer).map((answer) => answer.value)
  }

  stop(): Promise<SupervisorExit> {
    return this.shutdown(0)
  }

  kill(): Promise<SupervisorExit> {
    this.log('warn', 'killing every worker now')
    this.killed = true
    for (const worker of this.processes.values()) worker.kill('SIGKILL')
    return this.shutdown(1, new Error('killed before the workers had drained'))
  }

  private async shutdown(code: number, error?: Error): Promise<SupervisorExit> {
    if (this.stopping) return this.exited
    this.stopping = true
    this.recycler?.stop()
    for (const slot of this.slots) clearTimeout(slot.timer)
    const standbys = this.dropStandbys()
    const live = [...this.processes.values()]
    if (live.length > 0) {
      this.log('info', `stopping: draining ${live.length} workers (up to ${this.o.drainTimeout} s)`)
    }
    for (const worker of live) this.drain(worker)
    await Promise.all([...live, ...standbys].map((worker) => worker.exited))
    this.finish(code, error)
    return this.exited
  }

  // Ends the standbys; their exits are the caller's to await.
  private dropStandbys(): WorkerProcess[] {
    const dropped: WorkerProcess[] = []
    for (const slot of this.slots) {
      if (slot.standby === undefined) continue
      slot.standby.kill('SIGKILL')
      dropped.push(slot.standby)
      slot.standby = undefined
    }
    return dropped
  }

  private release() {
    this.shared?.close()
    this.admin?.close()
    this.ipc?.close()
    this.shared = undefined
    this.admin = undefined
    this.ipc = undefined
  }

  /** The port `/metrics` and the health checks are served on, when there is an admin port. */
  get adminPort(): number | undefined {
    return this.admin?.port
  }

  // The admin socket of the next ready worker, in turn.
  private adminSocket(): string | undefined {
    const ready = [...this.processes.values()].filter((w) => w.state === 'ready')
    if (ready.length === 0 || this.ipc === undefined) return undefined
    this.adminTurn = (this.adminTurn + 1) % ready.length
    return adminSocket(this.ipc.path, ready[this.adminTurn]!.id)
  }

  private finish(code: number, error?: Error) {
    if (this.finished) return
    this.finished = true
    // A kill() during a graceful stop still means the workers did not drain.
    if (this.killed && code === 0) {
      code = 1
      error = new Error('killed before the workers had drained')
    }
    this.release()
    this.rejectReady(error ?? new Error('the supervisor stopped before every worker was ready'))
    this.log(
      code === 0 ? 'info' : 'error',
      code === 0 ? 'stopped' : `stopped with exit code ${code}`
    )
    this.resolveExited(error ? { code, error } : { code })
  }
}
