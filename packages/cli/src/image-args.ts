// An image's command line (image.ts), read as `bento serve` reads its own, with node:util's
// parseArgs (Node, Bun and Deno all have it) rather than commander, which an image does not hold.
import { parseArgs } from 'node:util'
import { type ServeCommandOptions, serveOptions } from './commands/serve.ts'
import { CliError } from './errors.ts'
import { parseDepends } from './options.ts'

/** The command line of an image: `[entry] [bento serve's flags]`, checked. */
export interface ImageArgs {
  entry: string | undefined
  options: ServeCommandOptions
  verbose: boolean
}

/**
 * Reads an image's arguments (the Containerfile's entry, then a Deployment's `args`) as `bento
 * serve` reads its own.
 * @example
 * imageArgs(['/app/bento-entry.mjs', '--service', 'search'], process.env).options.service // 'search'
 */
export function imageArgs(args: string[], env: Record<string, string | undefined>): ImageArgs {
  let parsed: ReturnType<typeof parse>
  try {
    parsed = parse(args)
  } catch (error) {
    throw new CliError(
      `the image's arguments are wrong: ${(error as Error).message}`,
      "pass `bento serve`'s flags after the entry (--port, --host, --workers, --log-format, --no-access-log, --admin-port, --service, --depends)"
    )
  }
  const { values, positionals } = parsed
  return {
    entry: positionals[0],
    verbose: values.verbose === true,
    options: serveOptions(
      {
        port: values.port,
        host: values.host,
        workers: values.workers,
        logFormat: values['log-format'],
        accessLog: values['access-log'] !== false,
        adminPort: values['admin-port'],
        service: values.service,
        depends: (values.depends ?? []).reduce(
          (table, value) => parseDepends(value, table),
          {} as Record<string, string>
        ),
      },
      env
    ),
  }
}

function parse(args: string[]) {
  return parseArgs({
    args,
    allowPositionals: true,
    allowNegative: true,
    options: {
      port: { type: 'string', short: 'p' },
      host: { type: 'string', short: 'H' },
      workers: { type: 'string', short: 'w' },
      'log-format': { type: 'string' },
      'access-log': { type: 'boolean', default: true },
      'admin-port': { type: 'string' },
      service: { type: 'string' },
      depends: { type: 'string', multiple: true },
      verbose: { type: 'boolean', default: false },
    },
  })
}
