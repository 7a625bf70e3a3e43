// Starts supervisors (and anything else) as real processes under Node, Bun and Deno, reads their
// output, talks HTTP to them, and kills whatever a test left running.
import { type ChildProcess, spawn } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { afterEach } from 'vitest'
import { RUNTIMES, type RuntimeName, runtimeCommand } from '../../../test/support/runtimes.ts'

export { RUNTIMES, type RuntimeName, runtimeCommand } from '../../../test/support/runtimes.ts'

/**
 * A runtime, or Node with its other way to share the port (`round-robin` is Node's default; Bun
 * and Deno have only `reuseport`).
 */
export type Target = RuntimeName | 'node/shared-socket'
export const TARGETS: readonly Target[] = [...RUNTIMES, 'node/shared-socket']

export function runtimeOf(target: Target): RuntimeName {
  return target.split('/')[0] as RuntimeName
}

export function sharingOf(target: Target): string | undefined {
  return target.split('/')[1]
}

export const fixture = (name: string) =>
  fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url))

/** A process started by a test, in its own process group. */
export class Proc {
  readonly child: ChildProcess
  readonly pid: number
  readonly lines: string[] = []
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private waiters: (() => void)[] = []

  constructor(cmd: string[], env: Record<string, string> = {}) {
    const [command, ...args] = cmd
    this.child = spawn(command!, args, {
      // Its own group: the test can kill it with every worker it started, whatever happens.
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...inheritedEnv(), NO_COLOR: '1', ...env },
    })
    this.pid = this.child.pid!
    live.add(this)
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      let rest = ''
      stream.setEncoding('utf8')
      stream.on('data', (text: string) => {
        const parts = (rest + text).split('\n')
        rest = parts.pop()!
        this.lines.push(...parts)
        for (const wake of this.waiters.splice(0)) wake()
      })
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        // Let the last output arrive before anyone reads it.
        setTimeout(() => {
          for (const wake of this.waiters.splice(0)) wake()
          resolve({ code, signal })
        }, 50)
      })
    })
    this.exited.then(() => live.delete(this))
  }

  get output(): string {
    return this.lines.join('\n')
  }

  /** Resolves with the first line matching `pattern` (already printed or to come). */
  waitFor(pattern: RegExp, timeoutMs = 15_000): Promise<RegExpMatchArray> {
    return new Promise((resolve, reject) => {
      let seen = 0
      let done = false
      const timer = setTimeout(() => {
        done = true
        reject(
          new Error(`no line matching ${pattern} within ${timeoutMs} ms; output:\n${this.output}`)
        )
      }, timeoutMs)
      const check = () => {
        if (done) return
        for (; seen < this.lines.length; seen++) {
          const match = this.lines[seen]!.match(pattern)
          if (match) {
            done = true
            clearTimeout(timer)
            return resolve(match)
          }
        }
        if (this.child.exitCode !== null || this.child.signalCode !== null) {
          done = true
          clearTimeout(timer)
          return reject(new Error(`exited before printing ${pattern}; output:\n${this.output}`))
        }
        this.waiters.push(check)
      }
      check()
    })
  }

  signal(signal: NodeJS.Signals): void {
    process.kill(this.pid, signal)
  }

  /** SIGKILLs the whole process group. */
  killGroup(): void {
    try {
      process.kill(-this.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
}

const live = new Set<Proc>()

// Every test ends with nothing of its own running.
afterEach(async () => {
  const procs = [...live]
  for (const proc of procs) proc.killGroup()
  await Promise.all(procs.map((proc) => proc.exited))
})

// The test runner's own BENTO_* settings must not leak into the processes under test.
function inheritedEnv(): Record<string, string> {
  return Object.fromEntries(
    Object.entries(process.env).filter(
      (entry): entry is [string, string] => !entry[0].startsWith('BENTO_') && entry[1] !== undefined
    )
  )
}

/** What the fixture supervisor reads from $BENTO_TEST_CONFIG. */
export interface FixtureConfig {
  workers?: number
  port?: number
  env?: Record<string, string>
  drainTimeout?: number
  restart?: Record<string, unknown>
  logFormat?: 'pretty' | 'json'
  onDeployment?: boolean
  portSharing?: string
  maxMemory?: string
  memoryCheckInterval?: number
  standby?: boolean
}

/** Starts test/fixtures/supervisor.mjs under `target`'s runtime and port sharing. */
export function launchSupervisor(target: Target, config: FixtureConfig = {}): Proc {
  return new Proc([...runtimeCommand[runtimeOf(target)], fixture('supervisor.mjs')], {
    BENTO_TEST_CONFIG: JSON.stringify({ portSharing: sharingOf(target), ...config }),
  })
}

/** Starts the fixture supervisor and waits until every worker is ready. */
export async function startSupervisor(
  target: Target,
  config: FixtureConfig = {}
): Promise<{ proc: Proc; port: number }> {
  const proc = launchSupervisor(target, config)
  const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
  return { proc, port: Number(port) }
}

export interface Reply {
  status: number
  body: string
  headers: Record<string, string | string[] | undefined>
}

/** One HTTP GET on a fresh connection (no keep-alive pool to hide which worker answers). */
export function get(port: number, path: string, timeoutMs = 10_000): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      { host: '127.0.0.1', port, path, agent: false, headers: { connection: 'close' } },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }))
        res.on('error', reject)
      }
    )
    req.setTimeout(timeoutMs, () => req.destroy(new Error(`GET ${path} timed out`)))
    req.on('error', reject)
    req.end()
  })
}

export interface Info {
  index: number
  pid: number
  status: string
  count: number
  slot: string | null
  /** The pid whose preload module ran in this process (a standby's), else null. */
  preloaded: string | null
}

export async function info(port: number): Promise<Info> {
  return JSON.parse((await get(port, '/info')).body) as Info
}

/**
 * Asks /info until every index in `indices` has answered, and throws when one has not after
 * `tries` requests: a partial map would let a "the pid changed" check pass on a missing worker.
 */
export async function findWorkers(
  port: number,
  indices: number[],
  tries = 300
): Promise<Map<number, Info>> {
  const found = new Map<number, Info>()
  const missing = () => indices.filter((index) => !found.has(index))
  for (let i = 0; i < tries && missing().length > 0; i++) {
    const answer = await info(port)
    if (indices.includes(answer.index)) found.set(answer.index, answer)
  }
  if (missing().length > 0) {
    throw new Error(
      `workers ${missing().join(', ')} did not answer /info in ${tries} requests (found ${[...found.keys()].join(', ') || 'none'})`
    )
  }
  return found
}

/** Asks /info until worker `index` answers from a process other than `notPid`, for up to `ms`. */
export async function findReplaced(
  port: number,
  index: number,
  notPid: number,
  ms = 15_000
): Promise<Info> {
  const deadline = Date.now() + ms
  let last: Info | undefined
  while (Date.now() < deadline) {
    last = await info(port)
    if (last.index === index && last.pid !== notPid) return last
    // The replacement may still be starting: don't spin through the other workers meanwhile.
    if (last.index !== index) await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`worker ${index} did not answer from a pid other than ${notPid} within ${ms} ms`)
}

/** Resolves true once connecting to `port` is refused, false if it still accepts after `ms`. */
export async function portClosedWithin(port: number, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    const refused = await new Promise<boolean>((resolve) => {
      const socket = net.connect({ host: '127.0.0.1', port })
      socket.once('connect', () => {
        socket.destroy()
        resolve(false)
      })
      socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'))
    })
    if (refused) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return false
}

/** True while a process with this pid exists (zombies count as gone). */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
  } catch {
    return false
  }
  try {
    return !/\bState:\s+Z/.test(readFileSync(`/proc/${pid}/status`, 'utf8'))
  } catch {
    return false
  }
}

/** Polls `check` every 25 ms until it is true or `ms` passed; returns the last result. */
export async function eventually(check: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms
  while (Date.now() < deadline) {
    if (check()) return true
    await new Promise((r) => setTimeout(r, 25))
  }
  return check()
}
