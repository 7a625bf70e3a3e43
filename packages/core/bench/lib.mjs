// Helpers for the benchmark scripts: runtimes, processes with their output, wrk, RSS, free ports.
import { execFileSync, spawn } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import net from 'node:net'
import process from 'node:process'
import { fileURLToPath } from 'node:url'

const repo = fileURLToPath(new URL('../../../', import.meta.url))
export const here = (name) => fileURLToPath(new URL(`./${name}`, import.meta.url))

/** The real executables (node_modules/.bin's wrappers would swallow signals). */
export const runtimes = {
  node: [process.execPath],
  bun: [`${repo}node_modules/bun/bin/bun.exe`],
  deno: [`${repo}node_modules/deno/deno`, 'run', '--allow-all', '--unstable-net'],
}
export const denoBin = `${repo}node_modules/deno/deno`

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** A process in its own group with its output collected line by line. */
export function start(cmd, env = {}) {
  const [command, ...args] = cmd
  const child = spawn(command, args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, ...env },
  })
  const lines = []
  const waiters = []
  for (const stream of [child.stdout, child.stderr]) {
    let rest = ''
    stream.setEncoding('utf8')
    stream.on('data', (text) => {
      const parts = (rest + text).split('\n')
      rest = parts.pop()
      lines.push(...parts)
      for (const wake of waiters.splice(0)) wake()
    })
  }
  const exited = new Promise((r) => child.once('exit', (code, signal) => r({ code, signal })))
  let done = false
  exited.then(() => {
    done = true
    for (const wake of waiters.splice(0)) wake()
  })
  return {
    child,
    pid: child.pid,
    lines,
    exited,
    waitFor(pattern, timeoutMs = 30_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`no ${pattern} in:\n${lines.join('\n')}`)),
          timeoutMs
        )
        const check = () => {
          const line = lines.find((l) => pattern.test(l))
          if (line) {
            clearTimeout(timer)
            resolve(line.match(pattern))
          } else if (done) {
            clearTimeout(timer)
            reject(new Error(`exited before ${pattern}:\n${lines.join('\n')}`))
          } else waiters.push(check)
        }
        check()
      })
    },
    async stop() {
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {}
      await exited
    },
  }
}

/** A port nobody listens on now. */
export function freePort() {
  return new Promise((resolve) => {
    const server = net.createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => resolve(port))
    })
  })
}

/** Resident memory of a process in MiB. */
export function rssMiB(pid) {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8')
  return Number(status.match(/VmRSS:\s+(\d+) kB/)[1]) / 1024
}

/** The direct children of a process. */
export function children(pid) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number)
  } catch {
    return []
  }
}

export function hasWrk() {
  try {
    execFileSync('wrk', ['--version'], { stdio: 'pipe' })
    return true
  } catch (error) {
    return error.status !== undefined && error.status !== null && !/ENOENT/.test(String(error))
  }
}

/** Requests per second from `wrk -t2 -c<connections> -d<seconds>s`. */
export function wrk(port, { connections = 64, seconds = 5, threads = 2, path = '/' } = {}) {
  const out = execFileSync(
    'wrk',
    [`-t${threads}`, `-c${connections}`, `-d${seconds}s`, `http://127.0.0.1:${port}${path}`],
    { encoding: 'utf8' }
  )
  const rps = Number(out.match(/Requests\/sec:\s+([\d.]+)/)[1])
  const errors = out.match(/Socket errors: .*|Non-2xx or 3xx responses: \d+/g) ?? []
  return { rps, errors }
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.floor(sorted.length / 2)]
}

/** Machine line for the doc. */
export function machine() {
  const cpu =
    readFileSync('/proc/cpuinfo', 'utf8').match(/model name\s*:\s*(.*)/)?.[1] ?? 'unknown CPU'
  const cores = readFileSync('/proc/cpuinfo', 'utf8').match(/^processor/gm)?.length
  const kernel = readFileSync('/proc/sys/kernel/osrelease', 'utf8').trim()
  const version = (cmd) =>
    execFileSync(cmd[0], [...cmd.slice(1)], { encoding: 'utf8' })
      .trim()
      .split('\n')[0]
  return `${cores} x ${cpu}, Linux ${kernel}; node ${process.version}, bun ${version([runtimes.bun[0], '--version'])}, ${version([denoBin, '--version'])}`
}

export const exists = existsSync

/**
 * The runtime's own 2-process cluster serving bench/hello.mjs on a free port: node:cluster, two Bun
 * processes with reusePort, or `deno serve --parallel` with DENO_JOBS=2.
 */
export async function rawCluster(target) {
  const runtime = target.split('/')[0]
  const port = await freePort()
  if (runtime === 'node') {
    const proc = start([process.execPath, here('node-cluster.mjs')], { PORT: String(port) })
    await proc.waitFor(/^listening/)
    return { port, stop: () => proc.stop() }
  }
  if (runtime === 'bun') {
    const procs = [1, 2].map((i) =>
      start([runtimes.bun[0], here('bare.mjs')], {
        PORT: String(port),
        RAW_REUSE_PORT: '1',
        RAW_INDEX: String(i),
      })
    )
    await Promise.all(procs.map((p) => p.waitFor(/^listening/)))
    return { port, stop: () => Promise.all(procs.map((p) => p.stop())) }
  }
  const proc = start(
    [
      denoBin,
      'serve',
      '--parallel',
      '--allow-all',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      here('hello.mjs'),
    ],
    {
      DENO_JOBS: '2',
    }
  )
  await proc.waitFor(/Listening on/)
  return { port, stop: () => proc.stop() }
}
