// supervise() used as a library, in this (Node) process: the Supervisor object's API.
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs'
import { request as httpRequest } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fixture, get } from '../../test/harness.ts'
import type { Logger } from './logger.ts'
import { type Supervisor, supervise } from './supervisor.ts'

const running: Supervisor[] = []
afterEach(async () => {
  for (const supervisor of running.splice(0)) await supervisor.kill()
})

function quietLogger(lines: string[]): Logger {
  return {
    log: (level, msg, worker) => lines.push(`${level} ${worker ?? '-'} ${msg}`),
    output: (worker, _stream, line) => lines.push(`[worker ${worker}] ${line}`),
  }
}

function start(env: Record<string, string> = {}, lines: string[] = []) {
  const supervisor = supervise({
    workerEntry: fixture('worker.mjs'),
    assignments: [
      { workerIndex: 1, env: { FIXTURE_SLOT: 'a' } },
      { workerIndex: 2, env: { FIXTURE_SLOT: 'b' } },
    ],
    host: '127.0.0.1',
    port: 0,
    execArgv: [],
    env,
    drainTimeout: 5,
    restart: { backoff: { initial: 0.01, max: 0.05 } },
    logger: quietLogger(lines),
  })
  running.push(supervisor)
  return supervisor
}

describe('supervise()', () => {
  it('reports its workers, gathers from them, and stops with code 0', async () => {
    const supervisor = start()
    expect(supervisor.runtime).toBe('node')
    await supervisor.ready
    expect(supervisor.port).toBeGreaterThan(0)
    const workers = supervisor.workers()
    expect(workers.map((w) => [w.workerIndex, w.status, w.restarts])).toEqual([
      [1, 'ready', 0],
      [2, 'ready', 0],
    ])
    expect(workers.every((w) => typeof w.pid === 'number' && w.startedAt instanceof Date)).toBe(
      true
    )
    expect((await supervisor.gather('pid')).sort()).toEqual(workers.map((w) => w.pid).sort())
    expect((await get(supervisor.port!, '/')).status).toBe(200)
    expect(await supervisor.stop()).toEqual({ code: 0 })
    expect(await supervisor.exited).toEqual({ code: 0 })
  })

  it('rejects reload() with the new worker error and keeps the old workers', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'bento-test-'))
    const flag = join(dir, 'broken')
    try {
      const lines: string[] = []
      const supervisor = start({ FAIL_FLAG: flag }, lines)
      await supervisor.ready
      const before = supervisor.workers().map((w) => w.pid)
      writeFileSync(flag, '')
      await expect(supervisor.reload()).rejects.toThrow(
        /reload failed: the new worker 1 did not start: broken by the flag file/
      )
      expect(supervisor.workers().map((w) => w.pid)).toEqual(before)
      expect(supervisor.workers().every((w) => w.status === 'ready')).toBe(true)
      rmSync(flag)
      await supervisor.reload()
      const after = supervisor.workers().filter((w) => w.status !== 'draining')
      expect(after.map((w) => w.workerIndex)).toEqual([1, 2])
      expect(after.map((w) => w.pid).some((pid) => before.includes(pid))).toBe(false)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('runs onDeployment before any worker, and starts nothing when it throws', async () => {
    const lines: string[] = []
    const supervisor = supervise({
      workerEntry: fixture('worker.mjs'),
      assignments: [{ workerIndex: 1, env: {} }],
      host: '127.0.0.1',
      port: 0,
      execArgv: [],
      logger: quietLogger(lines),
      onDeployment: () => {
        throw new Error('migration failed')
      },
    })
    running.push(supervisor)
    await expect(supervisor.ready).rejects.toThrow('migration failed')
    const exit = await supervisor.exited
    expect(exit.code).toBe(1)
    expect(exit.error?.message).toBe('migration failed')
    expect(lines.join('\n')).not.toMatch(/worker started/)
  })

  it('rejects bad options before starting anything', () => {
    expect(() =>
      supervise({ workerEntry: fixture('worker.mjs'), assignments: [], port: 0 })
    ).toThrow(/assignments must be a non-empty array/)
    expect(() =>
      supervise({ workerEntry: fixture('nope.mjs'), assignments: [{ workerIndex: 1, env: {} }] })
    ).toThrow(/workerEntry .*nope\.mjs does not exist/)
  })
})

describe('supervise({ internal })', () => {
  const token = 'the-graph-token'
  /** GET / from one endpoint (a Unix socket or a loopback URL), with `headers`. */
  function getFrom(endpoint: string, headers: Record<string, string> = {}): Promise<number> {
    return new Promise((resolve, reject) => {
      const target = endpoint.startsWith('unix:')
        ? { socketPath: endpoint.slice(5) }
        : { host: '127.0.0.1', port: Number(new URL(endpoint).port) }
      httpRequest({ ...target, path: '/', agent: false, headers }, (res) => {
        res.resume()
        res.on('end', () => resolve(res.statusCode!))
      })
        .on('error', reject)
        .end()
    })
  }

  it.each(['unix', 'tcp'] as const)(
    'serves each worker privately over %s and reports where, as they change',
    async (transport) => {
      const dir = mkdtempSync(join(tmpdir(), 'bento-internal-'))
      const seen: string[][] = []
      const supervisor = supervise({
        workerEntry: fixture('worker.mjs'),
        assignments: [
          { workerIndex: 1, env: {} },
          { workerIndex: 2, env: {} },
        ],
        execArgv: [],
        drainTimeout: 5,
        internal: { dir, transport },
        env: { BENTO_INTERNAL_TOKEN: token },
        onEndpoints: (endpoints) => seen.push(endpoints),
        logger: quietLogger([]),
      })
      running.push(supervisor)
      await supervisor.ready
      expect(supervisor.port).toBeUndefined()
      const endpoints = supervisor.endpoints()
      expect(endpoints).toHaveLength(2)
      if (transport === 'unix') {
        expect(endpoints.sort()).toEqual([`unix:${dir}/1.1.sock`, `unix:${dir}/2.1.sock`])
        for (const endpoint of endpoints) {
          expect(statSync(endpoint.slice(5)).mode & 0o777).toBe(0o600)
        }
      } else {
        for (const endpoint of endpoints) expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      }
      for (const endpoint of endpoints) {
        expect(await getFrom(endpoint, { 'bento-token': token })).toBe(200)
        expect(await getFrom(endpoint)).toBe(401)
      }
      expect(seen.at(-1)?.sort()).toEqual(endpoints.sort())
      expect(await supervisor.stop()).toEqual({ code: 0 })
      expect(seen.at(-1)).toEqual([])
      expect(readdirSync(dir)).toEqual([])
      rmSync(dir, { recursive: true, force: true })
    }
  )
})
