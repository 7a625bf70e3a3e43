// runSupervisor over bench/hello-worker.mjs; options from $BENCH_CONFIG (JSON).
import process from 'node:process'
import { runSupervisor } from '../dist/supervisor.js'

const config = JSON.parse(process.env.BENCH_CONFIG ?? '{}')
runSupervisor({
  workerEntry: new URL('./hello-worker.mjs', import.meta.url),
  assignments: Array.from({ length: config.workers ?? 2 }, (_, i) => ({
    workerIndex: i + 1,
    env: {},
  })),
  host: '127.0.0.1',
  port: config.port ?? 0,
  portSharing: config.portSharing,
  env: config.env ?? {},
  execArgv: [],
  drainTimeout: 5,
})
