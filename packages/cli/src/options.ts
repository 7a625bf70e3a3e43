// Flag values shared by the commands, checked in one place with errors that say what to type.
import { CliError } from './errors.ts'

/**
 * Parses `--port` (or `$PORT`): an integer from 0 (any free port) to 65535.
 * @example
 * parsePort('8080', '--port') // 8080
 */
export function parsePort(value: string, source: string): number {
  const port = Number(value)
  if (!/^\d+$/.test(value.trim()) || port > 65_535) {
    throw new CliError(
      `${source} must be a port number from 0 to 65535, got "${value}"`,
      `use e.g. ${source === '$PORT' ? 'PORT=3000' : `${source} 3000`}`
    )
  }
  return port
}

/**
 * The port from `--port`, else from `$PORT`, checked and named by where it came from; undefined
 * when neither is set (the command's default applies).
 * @example
 * portFrom(undefined, '8080') // 8080 (a bad value: "$PORT must be ...")
 */
export function portFrom(flag: string | undefined, env: string | undefined): number | undefined {
  const value = flag ?? env
  return value === undefined ? undefined : parsePort(value, flag === undefined ? '$PORT' : '--port')
}

/**
 * Parses `--workers`: a positive integer.
 * @example
 * parseWorkers('4') // 4
 */
export function parseWorkers(value: string): number {
  const workers = Number(value)
  if (!/^\d+$/.test(value.trim()) || workers < 1) {
    throw new CliError(
      `--workers must be a positive integer, got "${value}"`,
      'use e.g. --workers 2'
    )
  }
  return workers
}

/**
 * Parses `--log-format`: `pretty` or `json`.
 * @example
 * parseLogFormat('json') // 'json'
 */
export function parseLogFormat(value: string): 'pretty' | 'json' {
  if (value !== 'pretty' && value !== 'json') {
    throw new CliError(
      `--log-format must be "pretty" or "json", got "${value}"`,
      'use --log-format json for one JSON object per line'
    )
  }
  return value
}

/**
 * Collects `--depends name=url` (repeatable, or comma-separated) into a table; the URLs are
 * checked by the core, which words the error for `--depends`.
 * @example
 * parseDepends('embedder=http://embedder:3000', {}) // { embedder: 'http://embedder:3000' }
 */
export function parseDepends(
  value: string,
  previous: Record<string, string>
): Record<string, string> {
  const table = { ...previous }
  for (const entry of value.split(',')) {
    const text = entry.trim()
    if (text === '') continue
    const eq = text.indexOf('=')
    if (eq <= 0) {
      throw new CliError(
        `--depends takes name=url, got "${text}"`,
        'use e.g. --depends embedder=http://embedder:3000'
      )
    }
    table[text.slice(0, eq).trim()] = text.slice(eq + 1).trim()
  }
  return table
}

/**
 * `--runtime`: the runtime a built image serves on.
 * @example
 * parseRuntime('bun') // 'bun'
 */
export function parseRuntime(value: string): 'node' | 'bun' | 'deno' {
  if (value === 'node' || value === 'bun' || value === 'deno') return value
  throw new CliError(`--runtime must be node, bun or deno, got "${value}"`, 'pass --runtime node')
}

/**
 * `--autoscale`: how the manifests scale each service.
 * @example
 * parseAutoscale('keda') // 'keda'
 */
export function parseAutoscale(value: string): 'hpa' | 'keda' | 'none' {
  if (value === 'hpa' || value === 'keda' || value === 'none') return value
  throw new CliError(
    `--autoscale must be hpa, keda or none, got "${value}"`,
    'use hpa (CPU, built into Kubernetes) or keda (in-flight requests, needs KEDA)'
  )
}
