import { BentoConfigError } from '@bento/core'
import { EntryError } from '@bento/core/adapter'

/**
 * A problem the user can fix, printed as one line (`bento: ... Fix: ...`) with exit code 1.
 * @example
 * throw new CliError('port 3000 is in use', 'stop the other server or pass --port 3001')
 */
export class CliError extends Error {
  override name = 'CliError'

  constructor(problem: string, fix: string) {
    super(`${problem}. Fix: ${fix}.`)
  }
}

/**
 * The text printed for an error: one line for the user's mistakes, and the stack with `--verbose`
 * or for errors that are bento's own bugs.
 * @example
 * console.error(formatError(error, { verbose: false }))
 */
export function formatError(error: unknown, { verbose }: { verbose: boolean }): string {
  const known =
    error instanceof CliError || error instanceof BentoConfigError || error instanceof EntryError
  if (error instanceof Error) {
    if (verbose) return `bento: ${error.stack ?? error.message}`
    const hint = known ? '' : ' (run with --verbose for the stack trace)'
    return `bento: ${firstLine(error.message)}${hint}`
  }
  return `bento: ${String(error)}`
}

function firstLine(text: string): string {
  const line = text.split('\n').find((l) => l.trim() !== '')
  return line?.trim() ?? text
}
