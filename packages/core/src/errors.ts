/**
 * An error in what the user wrote (a service definition, a flag, an environment variable), raised
 * before any process starts. Its message names the field, what is wrong with it, and the fix, so
 * the CLI can print it as one line without a stack trace.
 * @example
 * throw new BentoConfigError({
 *   service: 'hello',
 *   field: 'workers',
 *   problem: 'must be a positive integer or "cpu_count", got 0',
 *   fix: 'set workers: 1 or more',
 * })
 */
export class BentoConfigError extends Error {
  override name = 'BentoConfigError'
  /** The offending field as the user wrote it, e.g. `resources.gpu` or `--workers`. */
  readonly field: string
  /** What to change. */
  readonly fix: string

  constructor(details: { service?: string; field: string; problem: string; fix: string }) {
    const where = details.service === undefined ? '' : `service "${details.service}": `
    super(`${where}${details.field} ${details.problem}. Fix: ${details.fix}.`)
    this.field = details.field
    this.fix = details.fix
  }
}

/**
 * The user's entry could not be loaded (a syntax error, an import that fails, a throw at the top
 * level) or exports nothing to serve: their code to fix, so the CLI prints it as one line; the
 * stack, when there is one, is the entry's.
 * @example
 * throw new EntryError('could not load service.ts: Unexpected token')
 */
export class EntryError extends Error {
  override name = 'EntryError'
}

/**
 * An error a handler throws to choose the HTTP status and the JSON body's message.
 * @example
 * throw new HttpError(404, 'no such model', { model: input.model })
 */
export class HttpError extends Error {
  override name = 'HttpError'
  readonly status: number
  /** Extra JSON fields for the response body. */
  readonly details: Record<string, unknown> | undefined

  constructor(status: number, message: string, details?: Record<string, unknown>) {
    super(message)
    if (!Number.isInteger(status) || status < 400 || status > 599) {
      throw new RangeError(`HttpError status must be an integer from 400 to 599, got ${status}`)
    }
    this.status = status
    this.details = details
  }
}

/**
 * A value as an error message shows it: strings quoted, objects and arrays by kind.
 * @example
 * `workers must be a positive integer, got ${describe('cpu-count')}` // got "cpu-count"
 */
export function describe(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value)
  if (value === null || value === undefined) return String(value)
  if (Array.isArray(value)) return 'an array'
  if (typeof value === 'object') return 'an object'
  return String(value)
}
