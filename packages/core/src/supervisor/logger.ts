// The supervisor's log: its own messages and every line its workers print, each tagged with the
// worker's index, as plain text for a terminal or as one JSON object per line for a log shipper.
import { randomBytes } from 'node:crypto'
import process from 'node:process'
import { safeText } from '../telemetry/safe-text.ts'

/** `pretty`: `[worker 1] line` for people; `json`: `{"time","level","worker","msg"}` per line. */
export type LogFormat = 'pretty' | 'json'

/** A log line's severity. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Where the supervisor's log goes. */
export interface Logger {
  /** How it writes, when it is one of `createLogger`'s (workers write access lines to match). */
  readonly format?: LogFormat
  /**
   * The prefix of a worker's output line that is already a JSON log entry (an access line),
   * written as it is: random per logger and given to workers only in their environment, so that
   * no output a client can provoke (a handler logging its input) passes through unwrapped.
   */
  readonly mark?: string
  /**
   * A message from the supervisor, about one worker when `worker` is given; `service` names the
   * pool in a graph of services (absent for the entry's).
   */
  log(level: LogLevel, msg: string, worker?: number, service?: string): void
  /**
   * One line a process printed on its stdout or stderr: a worker, by its index, or another process
   * the supervisor started, by its name (`deploy`); `service` as for `log`.
   */
  output(source: number | string, stream: 'stdout' | 'stderr', line: string, service?: string): void
}

/** How `createLogger` writes; tests pass their own. */
export interface LoggerOptions {
  format?: LogFormat
  write?: (stream: 'stdout' | 'stderr', text: string) => void
  /**
   * Where lines go when `write` is not given (the process's stdout and stderr by default),
   * gathered into one write per tick; at most 1 MiB is held for a stream whose reader is behind,
   * and writes past that are dropped and counted in a warning once it caught up.
   */
  streams?: LogStreams
  now?: () => Date
}

// The lines of one chunk of worker output (an access log batch is a hundred at a time) become one
// write per stream rather than a system call each: the supervisor also hands out connections.
// When a stream's reader falls behind (a pipe nobody reads), the supervisor keeps at most
// MAX_BACKLOG characters for it and drops the rest, counting, as a worker's access log does:
// otherwise it would hold every line its workers print for as long as the reader is away.
type Write = (stream: 'stdout' | 'stderr', text: string) => void
let shared: Write | undefined

const MAX_BACKLOG = 1 << 20

function processWriter(): Write {
  if (shared === undefined) {
    const { write, flush } = bufferedWriter(process)
    process.once('exit', flush)
    shared = write
  }
  return shared
}

/** Where a logger writes: two streams that say when they are full (`process` by default). */
export interface LogStreams {
  stdout: LogStream
  stderr: LogStream
}

/** A stream as `LogStreams` uses it: Node's, Bun's and Deno's `process.stdout` are ones. */
export interface LogStream {
  /** `false` when the reader is behind; `drain` follows once it caught up. */
  write(text: string): boolean
  once(event: 'drain', listener: () => void): unknown
}

// Gathers what is written in one tick into one write per stream; while a stream's reader is
// behind, keeps at most MAX_BACKLOG characters for it, drops whole writes beyond that, and says
// how many once the reader is back.
function bufferedWriter(streams: LogStreams): { write: Write; flush: () => void } {
  const pending = { stdout: '', stderr: '' }
  const blocked = { stdout: false, stderr: false }
  const dropped = { stdout: 0, stderr: 0 }
  let scheduled = false
  const flush = () => {
    scheduled = false
    for (const stream of ['stderr', 'stdout'] as const) {
      if (pending[stream] === '' || blocked[stream]) continue
      const text = pending[stream]
      pending[stream] = ''
      if (streams[stream].write(text)) continue
      blocked[stream] = true
      streams[stream].once('drain', () => {
        blocked[stream] = false
        if (dropped[stream] > 0) {
          pending[stream] +=
            `[bento] warn: ${dropped[stream]} log writes dropped: ${stream} was not read fast enough\n`
          dropped[stream] = 0
        }
        schedule()
      })
    }
  }
  const schedule = () => {
    if (!scheduled) {
      scheduled = true
      queueMicrotask(flush)
    }
  }
  const write: Write = (stream, text) => {
    if (blocked[stream] && pending[stream].length + text.length > MAX_BACKLOG) {
      dropped[stream] += 1
      return
    }
    pending[stream] += text
    schedule()
  }
  return { write, flush }
}

/**
 * A logger in the given format. Pretty: supervisor messages go to stderr as `[bento] msg`, worker
 * lines to the stream they came from as `[worker N] line`. JSON: everything to stdout, worker
 * stderr lines at level `error`.
 * @example
 * const logger = createLogger({ format: 'json' })
 * logger.output(2, 'stdout', 'model loaded') // {"time":"…","level":"info","worker":2,"msg":"model loaded"}
 */
export function createLogger(options: LoggerOptions = {}): Logger {
  const { format = 'pretty', now = () => new Date() } = options
  const write =
    options.write ??
    (options.streams === undefined ? processWriter() : bufferedWriter(options.streams).write)
  if (format !== 'pretty' && format !== 'json') {
    throw new TypeError(`log format must be "pretty" or "json", got ${JSON.stringify(format)}`)
  }
  const json = (level: LogLevel, msg: string, source?: number | string, service?: string) => {
    const time = now().toISOString()
    const entry =
      source === undefined
        ? { time, level, service, msg }
        : typeof source === 'number'
          ? { time, level, service, worker: source, msg }
          : { time, level, service, process: source, msg }
    write('stdout', `${JSON.stringify(entry)}\n`)
  }
  if (format === 'json') {
    // JSON.stringify writes every control character escaped: only the pass-through needs a check.
    const mark = `\u001e${randomBytes(8).toString('hex')}`
    return {
      format,
      mark,
      log: json,
      output: (worker, stream, line, service) => {
        // A worker's access line, already one JSON object: written as it is, not wrapped again.
        if (line.startsWith(mark)) write('stdout', `${line.slice(mark.length)}\n`)
        else json(stream === 'stderr' ? 'error' : 'info', line, worker, service)
      },
    }
  }
  return {
    format,
    log(level, msg, worker, service) {
      const who = [service, worker === undefined ? undefined : `worker ${worker}`]
        .filter(Boolean)
        .join(' ')
      const tag = who === '' ? '[bento]' : `[bento] ${who}:`
      const severity = level === 'info' ? '' : `${level}: `
      // A message may carry a worker's error text: each of its lines is tagged, so none of them
      // passes for a line of its own, and control characters are written out.
      const lines = msg.split('\n')
      let text = `${tag} ${severity}${safeText(lines[0]!)}\n`
      for (let i = 1; i < lines.length; i++) text += `${tag}   ${safeText(lines[i]!)}\n`
      write('stderr', text)
    },
    output(source, stream, line, service) {
      const who = typeof source === 'number' ? `worker ${source}` : source
      write(stream, `[${service === undefined ? who : `${service} ${source}`}] ${safeText(line)}\n`)
    },
  }
}

/**
 * The logger a `logger` option names (`supervise()`'s and `serve()`'s): one of your own as it is,
 * else a new one in the format given, pretty by default.
 */
export function loggerOf(option: LogFormat | Logger | undefined): Logger {
  return typeof option === 'object' && option !== null
    ? option
    : createLogger({ format: option ?? 'pretty' })
}
