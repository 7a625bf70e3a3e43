// @bento/core/worker: the worker side. Under a supervisor (BENTO_IPC set) it reports to it, runs
// the service's onStartup, listens on the shared port, says ready, and drains when told to or when
// the supervisor goes away. Without one it simply serves on $PORT.
import process from 'node:process'
import { localApisOf } from '../client/local.ts'
import { peersReachable, setFrameSend, setPeers, setUnixFetch } from '../client/registry.ts'
import { readEnv } from '../env.ts'
import { BentoConfigError } from '../errors.ts'
import { framesTo } from '../frames/client.ts'
import { serveFrames } from '../frames/server.ts'
import { hostRequired } from '../runtime/host.ts'
import { currentRuntime, type FetchHandler, type Listener, type Runtime } from '../runtime/index.ts'
import { tokenRequired } from '../runtime/internal-token.ts'
import { adminRoutes, withoutMetrics } from '../runtime/operational.ts'
import { DEFAULTS } from '../service/defaults.ts'
import type { Service } from '../service/types.ts'
import { isService } from '../service/types.ts'
import { type Channel, connectIpc } from '../supervisor/ipc.ts'
import type { SupervisorMessage, WorkerMessage } from '../supervisor/protocol.ts'
import { startObservability, stopObservability } from '../telemetry/start.ts'
import { VARS } from '../vars.ts'
import { localAnswer, setGatherTransport, setWorkerStatus } from './context.ts'
import { lifecycle } from './lifecycle.ts'
import { withPermissionHint } from './permission-hint.ts'

/** What a worker serves. */
export interface RunWorkerOptions {
  /** The handler for every request, e.g. a Hono app's `app.fetch`. */
  fetch: FetchHandler
  /**
   * The services `fetch` serves (one, or every service an app mounts): each one's `onStartup` runs
   * before the worker is ready, in this order, and its `onShutdown` after the worker drained, in
   * the reverse order.
   */
  // biome-ignore lint/suspicious/noExplicitAny: a worker runs any service, whatever its State
  services?: readonly Service<any>[]
}

/** A serving worker. */
export interface RunningWorker {
  /** The port it serves on. */
  readonly port: number
  /** True when started by a supervisor. */
  readonly supervised: boolean
  /**
   * Stops accepting, finishes the requests in flight (up to the drain timeout) and runs
   * `onShutdown`. A supervised worker then exits; a standalone one leaves that to the caller.
   */
  stop(): Promise<void>
}

// A draining worker's last spans get this long to reach the collector: a collector that is down
// must not hold the exit up for the exporter's own 10 s timeout.
const TELEMETRY_FLUSH_MS = 2000

// The supervisor replies within its own gather timeout; this only guards against a lost reply.
const GATHER_WAIT_MS = 10_000

/**
 * Serves `fetch` as a worker: under `bento serve`'s supervisor it joins the shared port and the
 * worker protocol; run directly it serves on `$PORT` (default 3000) and `$HOST` (default
 * `0.0.0.0`) and drains on SIGTERM/SIGINT.
 * @example
 * import { runWorker } from '@bento/core/worker'
 * import app, { svc } from './service.ts'
 * await runWorker({ fetch: app.fetch, services: [svc] })
 */
export async function runWorker(options: RunWorkerOptions): Promise<RunningWorker> {
  if (typeof options?.fetch !== 'function') {
    throw new BentoConfigError({
      field: 'runWorker(options).fetch',
      problem: `must be a function (request) => Response, got ${typeof options?.fetch}`,
      fix: "pass your app's fetch handler, e.g. runWorker({ fetch: app.fetch })",
    })
  }
  for (const [i, service] of (options.services ?? []).entries()) {
    if (!isService(service)) {
      throw new BentoConfigError({
        field: `runWorker(options).services[${i}]`,
        problem: 'is not a service',
        fix: 'pass what service({ ... }) returned',
      })
    }
  }
  const runtime = currentRuntime()
  setUnixFetch((path, call) => runtime.fetchUnix(path, call))
  setFrameSend((path, token, call) => framesTo(path, token).send(call))
  const ipcPath = readEnv(VARS.ipc)
  return ipcPath === undefined ? standalone(options) : supervised(options, ipcPath)
}

function numberEnv(name: string, fallback: number): number {
  const value = Number(readEnv(name))
  return Number.isFinite(value) && readEnv(name) !== undefined ? value : fallback
}

// Under a supervisor, the drain timeout it was given for the pool (one value, from one place);
// standalone, the longest of the services'.
function drainTimeoutMs(services: readonly Service[]): number {
  const own = Math.max(DEFAULTS.drainTimeout, ...services.map((s) => s.settings.drainTimeout))
  return numberEnv(VARS.drainTimeout, own) * 1000
}

/** The lifecycles of `services`, started in order and stopped in reverse. */
function lifecycles(services: readonly Service[]) {
  const all = services.map((service) => lifecycle(service))
  return {
    async start() {
      for (const life of all) await life.start()
    },
    async stop(): Promise<number> {
      let code = 0
      for (const life of [...all].reverse()) {
        try {
          await life.stop()
        } catch (error) {
          console.error('onShutdown failed:', error)
          code = 1
        }
      }
      return code
    },
  }
}

// How long a draining worker keeps answering requests on connections it already has (with
// `connection: close`) before closing the idle ones: a keep-alive client that is busy sends its
// next request well within it and then reconnects, to another worker, without an error.
const IDLE_GRACE_MS = 1000

/** Waits for the listener to drain, at most `ms`. */
async function drainListener(listener: Listener | undefined, ms: number): Promise<void> {
  if (!listener) return
  let timer: ReturnType<typeof setTimeout> | undefined
  await Promise.race([
    listener.close(Math.min(IDLE_GRACE_MS, ms)).catch(() => {}),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms)
    }),
  ])
  clearTimeout(timer)
}

// Under `bento dev` (BENTO_ENV=development), the host the worker was bound to, for the Host check
// against DNS rebinding; `undefined` otherwise.
function developmentHost(bound: string): { bound: string } | undefined {
  return readEnv(VARS.env) === 'development' ? { bound } : undefined
}

async function standalone(options: RunWorkerOptions): Promise<RunningWorker> {
  const runtime = currentRuntime()
  const services = options.services ?? []
  const life = lifecycles(services)
  await startObservability(services)
  await life.start()
  const host = readEnv('HOST') ?? DEFAULTS.listen.host
  const listener = await runtime.serve(hostRequired(options.fetch, developmentHost(host)), {
    host,
    port: numberEnv('PORT', DEFAULTS.listen.port),
  })
  setWorkerStatus('ready')
  console.log(`listening on http://${host}:${listener.port}`)
  let stopping: Promise<void> | undefined
  const stop = () => {
    stopping ??= (async () => {
      setWorkerStatus('draining')
      await drainListener(listener, drainTimeoutMs(services))
      const code = await life.stop()
      await stopObservability(TELEMETRY_FLUSH_MS)
      if (code !== 0) process.exitCode = code
    })()
    return stopping
  }
  const onSignal = () => void stop().then(() => process.exit())
  runtime.onSignal('SIGTERM', onSignal)
  runtime.onSignal('SIGINT', onSignal)
  return { port: listener.port, supervised: false, stop }
}

async function supervised(options: RunWorkerOptions, ipcPath: string): Promise<RunningWorker> {
  const runtime = currentRuntime()
  if (readEnv(VARS.standby) === '1') {
    // Its code is loaded already: taken on a reload, it would serve the code from before the save.
    console.error(
      'this worker module cannot wait as a warm standby (supervise({ standby: true })): load the service through runEntry(), which imports it only when told to go, or leave standby off'
    )
    process.exit(1)
  }
  let channel: Channel<SupervisorMessage, WorkerMessage>
  try {
    channel = await connectIpc(ipcPath)
  } catch (error) {
    console.error(`cannot reach the supervisor at ${ipcPath}:`, error)
    process.exit(1)
  }
  const workerIndex = numberEnv(VARS.workerIndex, 1)
  await channel.send({
    type: 'hello',
    workerIndex,
    pid: process.pid,
    id: readEnv(VARS.workerId) ?? String(workerIndex),
  })
  const worker = new SupervisedWorker(runtime, channel, options)
  return worker.start()
}

class SupervisedWorker {
  private phase: 'starting' | 'ready' | 'draining' = 'starting'
  private listener: Listener | undefined
  private adminListener: Listener | undefined
  private endpoint: string | undefined
  private stopping: Promise<void> | undefined
  private readonly life: ReturnType<typeof lifecycles>
  private readonly gathers = new Map<number, (values: unknown[]) => void>()
  private nextGather = 0

  constructor(
    private readonly runtime: Runtime,
    private readonly channel: Channel<SupervisorMessage, WorkerMessage>,
    private readonly options: RunWorkerOptions
  ) {
    this.life = lifecycles(options.services ?? [])
    channel.onMessage((message) => this.receive(message))
    // The supervisor is gone (even SIGKILLed): nobody will route to us or restart us, so stop
    // listening now, which frees the port, and finish what is in flight.
    channel.onClose(() => void this.stop())
    // A terminal's Ctrl-C or systemd signals the whole process group: drain as if told to.
    runtime.onSignal('SIGTERM', () => void this.stop())
    runtime.onSignal('SIGINT', () => void this.stop())
    // Reloads are the supervisor's business; a SIGHUP to the group must not kill workers.
    runtime.onSignal('SIGHUP', () => {})
    setGatherTransport((topic) => this.gather(topic))
  }

  async start(): Promise<RunningWorker> {
    try {
      await startObservability(this.options.services ?? [])
      await this.life.start()
      // The tiers of a graph start at once; a worker takes requests only once every dependency
      // served here has a ready worker (before that, its calls could only wait).
      await peersReachable()
      if (this.phase !== 'starting') return this.never()
      const fetch = hostRequired(
        this.reportFirstAnswer(this.options.fetch),
        developmentHost(readEnv(VARS.host) ?? DEFAULTS.listen.host)
      )
      const listen = readEnv(VARS.listen)
      if (listen !== undefined) {
        // A service only other services call: its own socket, or a private port, answering the
        // graph's own callers only.
        const token = readEnv(VARS.internalToken)
        if (!token) {
          throw new Error(
            `a worker listening at ${listen} needs the graph's token in ${VARS.internalToken}: serve the graph with bento serve`
          )
        }
        const path = listen.startsWith('unix:') ? listen.slice('unix:'.length) : undefined
        // A service whose adapter registered its APIs takes calls as frames, straight to them;
        // any other (an app entry) as HTTP.
        const served = readEnv(VARS.service)
        const apis = served === undefined ? undefined : localApisOf(served)
        if (path !== undefined && apis !== undefined) {
          const frames = await serveFrames(path, apis, token)
          this.listener = { port: 0, close: (grace) => frames.close(grace) }
          this.endpoint = `frames:${path}`
        } else {
          this.listener = await this.runtime.serve(tokenRequired(fetch, token), {
            host: '127.0.0.1',
            port: 0,
            ...(path !== undefined && { path }),
          })
          this.endpoint = path !== undefined ? listen : `http://127.0.0.1:${this.listener.port}`
        }
      } else {
        // With an admin port, the operational routes on a socket of their own, which the
        // supervisor pipes the admin port's connections to, and no /metrics on the public port.
        const admin = readEnv(VARS.adminListen)
        if (admin !== undefined) {
          this.adminListener = await this.runtime.serve(adminRoutes(fetch), {
            host: '127.0.0.1',
            port: 0,
            path: admin,
          })
        }
        this.listener = await this.runtime.serve(
          admin === undefined ? fetch : withoutMetrics(fetch),
          {
            host: readEnv(VARS.host) ?? DEFAULTS.listen.host,
            port: numberEnv(VARS.port, DEFAULTS.listen.port),
            fd: readEnv(VARS.listenFd) === undefined ? undefined : numberEnv(VARS.listenFd, 3),
            reusePort: readEnv(VARS.reusePort) === '1',
            handoff: readEnv(VARS.handoff) === '1',
          }
        )
      }
    } catch (error) {
      const err = error instanceof Error ? error : new Error(String(error))
      const message = withPermissionHint(err, err.message)
      await this.channel.send({ type: 'error', message, stack: err.stack })
      process.exit(1)
    }
    if (this.phase !== 'starting') return this.never()
    this.phase = 'ready'
    setWorkerStatus('ready')
    await this.channel.send(
      this.endpoint === undefined ? { type: 'ready' } : { type: 'ready', endpoint: this.endpoint }
    )
    return { port: this.listener.port, supervised: true, stop: () => this.stop() }
  }

  // Tells the supervisor once that this worker answered a request: from then on its exit is not a
  // crash loop (see restarts.ts). After the first answer the wrapper costs one boolean test.
  private reportFirstAnswer(fetch: FetchHandler): FetchHandler {
    let reported = false
    const inner = fetch as (
      request: Request,
      ...platform: unknown[]
    ) => Response | Promise<Response>
    const wrapped = (request: Request, ...platform: unknown[]) => {
      const response = inner(request, ...platform)
      if (!reported) {
        reported = true
        void Promise.resolve(response).then(
          () => this.channel.send({ type: 'served' }),
          () => {
            reported = false
          }
        )
      }
      return response
    }
    return wrapped as FetchHandler
  }

  // A drain arrived during startup: the process is on its way out.
  private never(): Promise<never> {
    return new Promise<never>(() => {})
  }

  private receive(message: SupervisorMessage) {
    switch (message.type) {
      case 'drain':
        void this.stop()
        return
      case 'ask':
        void this.answer(message.id, message.topic)
        return
      case 'gathered':
        this.gathers.get(message.id)?.(message.values)
        return
      case 'peers':
        setPeers(message.service, message.endpoints)
        return
    }
  }

  private async answer(id: number, topic: string) {
    let value: unknown
    try {
      value = await localAnswer(topic)
    } catch (error) {
      console.error(`answering ${JSON.stringify(topic)} failed:`, error)
    }
    await this.channel.send(
      value === undefined ? { type: 'answer', id } : { type: 'answer', id, value }
    )
  }

  private gather(topic: string): Promise<unknown[]> {
    if (this.channel.closed) {
      return localAnswer(topic).then((value) => (value === undefined ? [] : [value]))
    }
    const id = ++this.nextGather
    return new Promise((resolve) => {
      const timer = setTimeout(() => finish([]), GATHER_WAIT_MS)
      const finish = (values: unknown[]) => {
        clearTimeout(timer)
        this.gathers.delete(id)
        resolve(values)
      }
      this.gathers.set(id, finish)
      void this.channel.send({ type: 'gather', id, topic })
    })
  }

  stop(): Promise<void> {
    this.stopping ??= this.drain()
    return this.stopping
  }

  private async drain() {
    const was = this.phase
    this.phase = 'draining'
    setWorkerStatus('draining')
    // Still in onStartup: nothing is served yet and onShutdown is owed only after a startup.
    if (was === 'starting') process.exit(0)
    await Promise.all([
      drainListener(this.listener, drainTimeoutMs(this.options.services ?? [])),
      drainListener(this.adminListener, drainTimeoutMs(this.options.services ?? [])),
    ])
    const code = await this.life.stop()
    await stopObservability(TELEMETRY_FLUSH_MS)
    this.channel.close()
    process.exit(code)
  }
}
