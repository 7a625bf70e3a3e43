// Runs the built `bento` CLI as a user would, under Node, Bun or Deno, in its own process group;
// reads the URL it prints, and ends it (and every worker it started) when the test is done.
import { type ChildProcess, spawn } from 'node:child_process'
import { request } from 'node:http'
import { afterAll, afterEach } from 'vitest'

import { type RuntimeName, repoRoot, runtimeCommand } from './runtimes.ts'

export { RUNTIMES, type RuntimeName, repoRoot, runtimeCommand } from './runtimes.ts'
export const cliBin = `${repoRoot}packages/cli/dist/bin.js`

// What is still running when a test ends is ended with it; a `shared` one, with its file.
const live = new Set<Bento>()
const shared = new Set<Bento>()
afterEach(async () => {
  await Promise.all([...live].filter((bento) => !shared.has(bento)).map((bento) => bento.kill()))
})
afterAll(async () => {
  await Promise.all([...shared].map((bento) => bento.kill()))
})

/** A running `bento` command. */
export class Bento {
  readonly child: ChildProcess
  output = ''
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>
  private waiters: Array<() => void> = []

  /**
   * Runs `command` (an executable and its arguments) in its own process group; `shared` keeps it
   * for the next tests of the file (it is ended after the last) instead of ending it with the test.
   */
  constructor(
    command: string[],
    options: { cwd: string; env?: Record<string, string>; shared?: boolean }
  ) {
    const [executable, ...rest] = command
    this.child = spawn(executable!, rest, {
      cwd: options.cwd,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1', ...options.env },
    })
    live.add(this)
    if (options.shared) shared.add(this)
    for (const stream of [this.child.stdout!, this.child.stderr!]) {
      stream.setEncoding('utf8')
      stream.on('data', (text: string) => {
        this.output += text
        for (const wake of this.waiters.splice(0)) wake()
      })
    }
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        setTimeout(() => {
          live.delete(this)
          shared.delete(this)
          for (const wake of this.waiters.splice(0)) wake()
          resolve({ code, signal })
        }, 50)
      })
    })
  }

  /** Resolves with the first match of `pattern` in the output; rejects if the process ends first. */
  async waitFor(pattern: RegExp, timeoutMs = 30_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs
    let ended = false
    void this.exited.then(() => {
      ended = true
    })
    for (;;) {
      const match = this.output.match(pattern)
      if (match) return match
      if (ended) throw new Error(`bento ended before printing ${pattern}:\n${this.output}`)
      if (Date.now() > deadline)
        throw new Error(`bento did not print ${pattern} in ${timeoutMs} ms:\n${this.output}`)
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, 200)
        this.waiters.push(() => {
          clearTimeout(timer)
          resolve()
        })
      })
    }
  }

  /** The URL from the `bento dev`/`bento serve` banner. */
  async url(timeoutMs = 30_000): Promise<string> {
    const match = await this.waitFor(/ at (http:\/\/[^\s,\\"]+)/, timeoutMs)
    return match[1]!
  }

  /** Sends `signal` to the CLI and resolves with how it ended. */
  async stop(signal: NodeJS.Signals = 'SIGTERM') {
    this.child.kill(signal)
    return this.exited
  }

  /** Ends the CLI and everything in its process group at once. */
  async kill(): Promise<void> {
    try {
      process.kill(-this.child.pid!, 'SIGKILL')
    } catch {
      // Already gone.
    }
    await this.exited
  }
}

/**
 * Starts `bento <args>` under `runtime`.
 * @example
 * const bento = startBento('node', ['serve', '--port', '0'], { cwd })
 * const url = await bento.url()
 */
export function startBento(
  runtime: RuntimeName,
  args: string[],
  options: { cwd: string; env?: Record<string, string>; shared?: boolean }
): Bento {
  return new Bento([...runtimeCommand[runtime], cliBin, ...args], options)
}

/**
 * Posts JSON and returns the status and parsed body.
 * @example
 * const { status, body } = await postJson(`${url}/greet`, { name: 'Ada' })
 */
export async function postJson(
  url: string,
  data: unknown
  // biome-ignore lint/suspicious/noExplicitAny: tests read the JSON body freely and assert each step
): Promise<{ status: number; body: any; headers: Headers }> {
  const response = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(data),
  })
  const text = await response.text()
  let body: unknown = text
  try {
    body = JSON.parse(text)
  } catch {
    // Not JSON: keep the text.
  }
  return { status: response.status, body, headers: response.headers }
}

/**
 * One request on a connection of its own (`connection: close`), so that successive ones reach
 * different workers; JSON when `data` is given. Resolves with the status, the body and how many
 * milliseconds the exchange took; rejects on a connection error.
 * @example
 * const { status, body } = await fresh(port, 'POST', '/greet', { name: 'Ada' })
 */
export function fresh(
  port: number,
  method: string,
  path: string,
  data?: unknown
): Promise<{ status: number; body: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const started = performance.now()
    const headers: Record<string, string> = { connection: 'close' }
    if (data !== undefined) headers['content-type'] = 'application/json'
    const req = request({ host: '127.0.0.1', port, method, path, agent: false, headers }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => {
        body += chunk
      })
      res.on('end', () =>
        resolve({ status: res.statusCode!, body, ms: performance.now() - started })
      )
    })
    req.on('error', reject)
    req.end(data === undefined ? undefined : JSON.stringify(data))
  })
}
