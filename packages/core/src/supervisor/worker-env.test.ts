import process from 'node:process'
import { fileURLToPath } from 'node:url'
import { afterEach, describe, expect, it } from 'vitest'
import { VARS } from '../vars.ts'
import { resolveOptions } from './options.ts'
import { workerEnv } from './worker-env.ts'

const base = {
  workerEntry: fileURLToPath(import.meta.url),
  assignments: [{ workerIndex: 1, env: {} }],
}
const slot = { index: 2, env: { CUDA_VISIBLE_DEVICES: '1' } }
const place = { count: 4, ipc: '/tmp/bento-x/ipc.sock', port: 3000 }
const bun = { name: 'bun', portSharing: ['reuseport'] } as const

describe('workerEnv', () => {
  afterEach(() => {
    delete process.env[VARS.workerIndex]
    delete process.env[VARS.listen]
  })

  it("gives a public pool's worker its identity, the port and the sharing mode's variable", () => {
    const o = resolveOptions(
      {
        ...base,
        host: '127.0.0.1',
        portSharing: 'reuseport',
        env: { A: 'b' },
      },
      bun
    )
    const env = workerEnv(o, slot, '2.1', place)
    expect(env).toMatchObject({
      A: 'b',
      CUDA_VISIBLE_DEVICES: '1',
      [VARS.workerIndex]: '2',
      [VARS.workerCount]: '4',
      [VARS.workerId]: '2.1',
      [VARS.ipc]: '/tmp/bento-x/ipc.sock',
      [VARS.host]: '127.0.0.1',
      [VARS.port]: '3000',
      [VARS.reusePort]: '1',
    })
    expect(env[VARS.listen]).toBeUndefined()
  })

  it("gives a dependency's worker a socket of its own (per process) and no public port", () => {
    const o = resolveOptions({ ...base, internal: { dir: '/tmp/bento-x/sockets' } }, bun)
    const env = workerEnv(o, slot, '2.3', { ...place, port: undefined })
    expect(env[VARS.listen]).toBe('unix:/tmp/bento-x/sockets/2.3.sock')
    expect(env[VARS.port]).toBeUndefined()
  })

  it("drops what the supervisor's own environment has of those variables (a supervisor started from a worker)", () => {
    process.env[VARS.workerIndex] = '9'
    process.env[VARS.listen] = 'unix:/elsewhere.sock'
    const env = workerEnv(resolveOptions(base, bun), slot, '2.1', place)
    expect(env[VARS.workerIndex]).toBe('2')
    expect(env[VARS.listen]).toBeUndefined()
  })
})
