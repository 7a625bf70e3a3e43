// The command line, parsed by commander (help, unknown-option errors and subcommands come from a
// well-kept parser rather than hand-written code).
import { createRequire } from 'node:module'
import { Command, CommanderError, Option } from 'commander'
import type { ServeFlags } from './commands/serve.ts'
import { formatError } from './errors.ts'
import {
  parseAutoscale,
  parseDepends,
  parsePort,
  parseRuntime,
  parseWorkers,
  portFrom,
} from './options.ts'

// createRequire rather than an import attribute: package.json sits outside the compiled rootDir.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string }

/** Where the commands read and write; tests pass their own. */
export interface CliIo {
  cwd: string
  env: Record<string, string | undefined>
  out: (text: string) => void
  err: (text: string) => void
}

const defaultIo = (): CliIo => ({
  cwd: process.cwd(),
  env: process.env,
  out: (text) => process.stdout.write(`${text}\n`),
  err: (text) => process.stderr.write(`${text}\n`),
})

function program(io: CliIo): Command {
  const cli = new Command('bento')
    .description('Serve bento services on Node, Bun and Deno: many workers, one port.')
    .version(version)
    .option('--verbose', 'print stack traces with errors')
    .configureOutput({ writeOut: (t) => io.out(t.trimEnd()), writeErr: (t) => io.err(t.trimEnd()) })
    .exitOverride()
    .showHelpAfterError('(run with --help for usage)')

  const port = (fallback: string) =>
    new Option('-p, --port <port>', `port to listen on, 0 for any free one (default: ${fallback})`)
  const workers = new Option(
    '-w, --workers <n>',
    'number of workers (overrides the strategy and BENTO_WORKERS)'
  )

  cli
    .command('dev')
    .description('serve a service for development: one worker, reloaded on every save')
    .argument('[entry]', 'the service file (default: service.ts, service.js, src/service.ts, ...)')
    // Defaults applied by dev() from core's DEFAULTS (this module loads no core).
    .addOption(port('$PORT, else 3000'))
    .option('-H, --host <host>', 'address to listen on (default: $HOST, else 127.0.0.1)')
    .addOption(workers)
    .option('--no-watch', 'do not reload on changes')
    .option('--access-log', 'log a line per request (off in dev)')
    // Each command is loaded when used: `bento serve` then loads no watcher and no compiler API.
    .action(async (entry: string | undefined, o) =>
      (await import('./commands/dev.ts')).dev(
        entry,
        {
          port: portFrom(o.port, io.env.PORT),
          host: o.host ?? io.env.HOST,
          workers: o.workers === undefined ? undefined : parseWorkers(o.workers),
          watch: o.watch,
          accessLog: o.accessLog === true,
        },
        io.cwd
      )
    )

  cli
    .command('serve')
    .description(
      "serve a service in production: workers from the service's strategy, graceful signals"
    )
    .argument('[entry]', 'the service file (default: service.ts, service.js, src/service.ts, ...)')
    // No defaults here: serveOptions() applies them, for this command and an image's entry alike.
    .option(
      '-p, --port <port>',
      'port to listen on, 0 for any free one (default: $PORT, else 3000)'
    )
    .option('-H, --host <host>', 'address to listen on (default: $HOST, else 0.0.0.0)')
    .addOption(
      new Option(
        '-w, --workers <n>',
        'number of workers (overrides the strategy and BENTO_WORKERS)'
      )
    )
    .option('--log-format <format>', 'pretty or json (one JSON object per line) (default: pretty)')
    .option('--no-access-log', 'do not log a line per request')
    .option(
      '--admin-port <port>',
      'serve /livez, /healthz, /readyz and /metrics on this port too, and /metrics only there'
    )
    .option('--service <name>', 'serve this service of the graph alone (one Deployment each)')
    .option(
      '--depends <name=url>',
      'where a dependency served elsewhere answers (repeatable; over BENTO_DEPENDS)',
      parseDepends,
      {}
    )
    .action(async (entry: string | undefined, o) => {
      const { serveCommand, serveOptions } = await import('./commands/serve.ts')
      const flags: ServeFlags = {
        port: o.port,
        host: o.host,
        workers: o.workers,
        logFormat: o.logFormat,
        accessLog: o.accessLog !== false,
        adminPort: o.adminPort,
        service: o.service,
        depends: o.depends,
      }
      await serveCommand(entry, serveOptions(flags, io.env), io.cwd)
    })

  cli
    .command('info')
    .description(
      'show the CPU quota, memory limit and GPUs this machine offers, and the worker plan'
    )
    .argument('[entry]', 'a service file, to show its worker plan')
    .option('--json', 'print one JSON object')
    .addOption(new Option('-w, --workers <n>', 'plan with this many workers'))
    .option('--service <name>', 'plan this service of the graph alone')
    .option('--depends <name=url>', 'a dependency served elsewhere (repeatable)', parseDepends, {})
    .action(async (entry: string | undefined, o) =>
      (await import('./commands/info.ts')).info(
        entry,
        {
          json: Boolean(o.json),
          workers: o.workers === undefined ? undefined : parseWorkers(o.workers),
          service: o.service,
          depends: o.depends,
        },
        io.cwd,
        io.out
      )
    )
  cli
    .command('build')
    .description(
      'write a container build context (code, dependencies, Containerfile) and Kubernetes manifests'
    )
    .argument('[entry]', 'the service file (default: service.ts, service.js, src/service.ts, ...)')
    .requiredOption(
      '-o, --out <dir>',
      'the folder to write (replaced if it holds an earlier build)'
    )
    .option('--image <name:tag>', 'the image the manifests run (default: <service>:latest)')
    .option('--base <image>', "the image to build on (default: the runtime's official one)")
    .addOption(new Option('--runtime <runtime>', 'node, bun or deno').default('node'))
    .addOption(
      new Option('--autoscale <kind>', 'hpa (CPU), keda (in-flight requests) or none').default(
        'hpa'
      )
    )
    .option(
      '--prometheus <url>',
      "where KEDA's trigger reads http_server_active_requests",
      'http://prometheus-operated.monitoring.svc:9090'
    )
    .addOption(new Option('-p, --port <port>', 'the port each pod serves on (default: 3000)'))
    .option('--json', 'print what was written as one JSON object')
    .action(async (entry: string | undefined, o) => {
      const { build } = await import('./commands/build.ts')
      await build(
        entry,
        {
          out: o.out,
          image: o.image,
          base: o.base,
          runtime: parseRuntime(o.runtime),
          autoscale: parseAutoscale(o.autoscale),
          prometheus: o.prometheus,
          port: o.port === undefined ? undefined : parsePort(o.port, '--port'),
          json: Boolean(o.json),
        },
        io.cwd,
        io.out
      )
    })
  return cli
}

/**
 * Runs the CLI with `argv` (as `process.argv`) and resolves with the exit code.
 * @example
 * process.exitCode = await main(process.argv)
 */
export async function main(argv: string[], io: CliIo = defaultIo()): Promise<number> {
  const cli = program(io)
  try {
    await cli.parseAsync(argv)
    return 0
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and --version exit 0; commander has already printed its own message for the rest.
      return error.exitCode
    }
    io.err(
      formatError(error, { verbose: Boolean(cli.opts().verbose) || argv.includes('--verbose') })
    )
    return 1
  }
}
