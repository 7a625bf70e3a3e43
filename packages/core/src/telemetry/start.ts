// A worker's telemetry and access log, set up from its environment before it serves, and flushed
// after it drained.
import { hostname } from 'node:os'
import process from 'node:process'
import { readEnv } from '../env.ts'
import { runtimeName } from '../runtime/detect.ts'
import type { Service } from '../service/types.ts'
import { VARS } from '../vars.ts'
import { AccessLog, accessLog, setAccessLog } from './access-log.ts'
import { telemetryConfig } from './config.ts'
import { activeTelemetry, setTelemetry } from './telemetry.ts'

/**
 * Starts the OpenTelemetry SDK when the OTEL_* variables ask for it, and the access log when
 * BENTO_ACCESS_LOG=1, for a worker serving `services` (the first names the worker).
 */
export async function startObservability(services: readonly Service[]): Promise<void> {
  const service = services[0]
  const workerIndex = Number(readEnv(VARS.workerIndex) ?? 1)
  if (service !== undefined) {
    const config = telemetryConfig(process.env, service.settings.tracing, {
      service: service.name,
      workerIndex,
      hostname: hostname(),
      runtime: runtimeName(),
    })
    if (config !== undefined) {
      const { startOtel } = await import('./otel.ts')
      setTelemetry(await startOtel(config, (line) => console.error(line)))
    }
  }
  if (readEnv(VARS.accessLog) === '1') {
    const supervised = readEnv(VARS.ipc) !== undefined
    const json = readEnv(VARS.logFormat) === 'json'
    setAccessLog(
      new AccessLog({
        format: json ? 'json' : 'text',
        worker: workerIndex,
        service: service?.name ?? 'app',
        // Without the supervisor's mark, the lines are wrapped as any output is.
        ...(supervised && json && { prefix: readEnv(VARS.logMark) ?? '' }),
        write: (text) => process.stdout.write(text),
        drained: (resume) => process.stdout.once('drain', resume),
      })
    )
  }
}

/**
 * Writes the access log's last lines and exports the last spans, within `ms`.
 */
export async function stopObservability(ms: number): Promise<void> {
  accessLog()?.flush()
  await activeTelemetry()?.shutdown(ms)
}
