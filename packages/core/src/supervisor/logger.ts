// The supervisor's log: its own messages and every line its workers print, each tagged with the
// worker's index, as plain text for a terminal or as one JSON object per line for a log shipper.
import process from 'node:process'

/** `pretty`: `[worker 1] line` for people; `json`: `{"time","level","worker","msg"}` per line. */
export type LogFormat = 'pretty' | 'json'

/** A log line's severity. */
export type LogLevel = 'info' | 'warn' | 'error'

/** Marks a worker's line that is already a JSON log entry (an access line). */
export const RAW_LINE = '\u001e'

/** Where the supervisor's log goes. */
export interface Logger {
  /** How it writes, when it is one of `createLogger`'s (workers write access lines to match). */
  readonly format?: LogFormat
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
  now?: () => Date
}

// The lines of one chunk of worker output (an access log batch is a hundred at a time) become one
// write per stream rather than a system call each: the supervisor also hands out connections.
type Write = (stream: 'stdout' | 'stderr', text: string) => void
let shared: Write | undefined

function processWriter(): Write {
  shared ??= bufferedWriter()
  return shared
}

function bufferedWriter(): Write {
  const pending = { stdout: '', stderr: '' }
  let scheduled = false
  const flush = () => {
    scheduled = false
    for (const stream of ['stderr', 'stdout'] as const) {
      if (pending[stream] === '') continue
      const text = pending[stream]
      pending[stream] = ''
      process[stream].write(text)
    }
  }
  process.once('exit', flush)
  return (stream, text) => {
    pending[stream] += text
    if (!scheduled) {
      scheduled = true
      queueMicrotask(flush)
    }
  }
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
  const { format = 'pretty', write = processWriter(), now = () => new Date() } = options
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
    return {
      format,
      log: json,
      output: (worker, stream, line, service) => {
        // A worker's access line, already one JSON object: written as it is, not wrapped again.
        if (line.startsWith(RAW_LINE)) write('stdout', `${line.slice(1)}\n`)
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
      const mark = level === 'info' ? '' : `${level}: `
      write('stderr', `${tag} ${mark}${msg}\n`)
    },
    output(source, stream, line, service) {
      if (line.startsWith(RAW_LINE)) line = line.slice(1)
      const who = typeof source === 'number' ? `worker ${source}` : source
      write(stream, `[${service === undefined ? who : `${service} ${source}`}] ${line}\n`)
    },
  }
}
