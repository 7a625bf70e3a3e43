// SIGHUP replaces every worker one at a time, under load, without failing a request; a reload
// whose new worker can't start leaves the old ones serving.
import { execFileSync } from 'node:child_process'
import { rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  findWorkers,
  fixture,
  Proc,
  runtimeCommand,
  runtimeOf,
  sharingOf,
  startSupervisor,
  TARGETS,
  type Target,
} from './harness.ts'

interface LoadResult {
  ok: boolean
  error?: string
  sent: number
  failed: number
  errors: Record<string, number>
  before: Record<string, number>
  after: Record<string, number>
  output: string
}

// SO_REUSEPORT listeners reset the connections queued on one that closes unless the kernel
// migrates them (net.ipv4.tcp_migrate_req, per network namespace), so Bun and Deno are tested in
// a namespace of their own with it on; this needs root (or user namespaces) and Linux >= 5.14.
const NETNS = [
  'unshare',
  '--net',
  'sh',
  '-c',
  'ip link set lo up && sysctl -qw net.ipv4.tcp_migrate_req=1 && exec "$@"',
  'sh',
]

function netnsAvailable(): string | undefined {
  try {
    execFileSync(NETNS[0]!, [...NETNS.slice(1), 'true'], { stdio: 'pipe' })
    return undefined
  } catch (error) {
    return `cannot create a network namespace with tcp_migrate_req=1: ${(error as Error).message.split('\n')[0]}`
  }
}

async function reloadUnderLoad(target: Target, connections: 'close' | 'keepalive') {
  const runtime = runtimeOf(target)
  const wrap = runtime === 'node' ? [] : NETNS
  const proc = new Proc(
    [...wrap, process.execPath, fixture('reload-under-load.mjs'), ...runtimeCommand[runtime]],
    {
      // 8 clients at 200 requests a second each: requests are always in flight on both workers
      // while they are replaced, and the loop leaves the other test files CPU.
      LOAD_CONFIG: JSON.stringify({
        connections,
        clients: 8,
        perSecond: 200,
        portSharing: sharingOf(target),
      }),
    }
  )
  const [, json] = await proc.waitFor(/^RESULT (.*)$/, 60_000)
  const result = JSON.parse(json!) as LoadResult
  expect(result.ok, result.error ?? result.output).toBe(true)
  return result
}

describe.each(TARGETS)('%s', (target) => {
  const runtime = runtimeOf(target)
  const skip = runtime === 'node' ? undefined : netnsAvailable()

  // Deno's shutdown() resets connections it has accepted but not read a request from yet
  // (denoland/deno#31959): a few per restarted worker under a loop of new connections (1 to 6
  // for the two workers of a reload in 10 runs here, about 0.1%). The bound is per restarted
  // worker, and only for those resets. Node and Bun fail none, and keep-alive clients lose
  // nothing on any runtime.
  const RESETS_PER_RESTART = runtime === 'deno' ? 5 : 0

  it.skipIf(skip)(
    `on SIGHUP replaces both workers under a request loop on new connections${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const result = await reloadUnderLoad(target, 'close')
      expect(result.sent).toBeGreaterThan(200)
      expect(Object.keys(result.errors).filter((e) => e !== 'ECONNRESET')).toEqual([])
      expect(result.failed, JSON.stringify(result.errors)).toBeLessThanOrEqual(
        2 * RESETS_PER_RESTART
      )
      expect(result.after['1']).not.toBe(result.before['1'])
      expect(result.after['2']).not.toBe(result.before['2'])
      expect(result.output).toMatch(/reload done/)
    },
    60_000
  )

  it.skipIf(skip)(
    `on SIGHUP replaces both workers under a keep-alive request loop, failing nothing${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const result = await reloadUnderLoad(target, 'keepalive')
      expect(result.sent).toBeGreaterThan(200)
      expect(result.errors).toEqual({})
      expect(result.failed).toBe(0)
      expect(result.after['1']).not.toBe(result.before['1'])
      expect(result.after['2']).not.toBe(result.before['2'])
    },
    60_000
  )

  it('keeps the old workers serving when the new one fails to start', async () => {
    const flag = join(tmpdir(), `bento-break-${runtime}-${process.pid}-${Date.now()}`)
    const { proc, port } = await startSupervisor(target, { env: { FAIL_FLAG: flag } })
    try {
      const before = await findWorkers(port, [1, 2])
      writeFileSync(flag, '')
      proc.signal('SIGHUP')
      await proc.waitFor(
        /reload failed: the new worker 1 did not start: broken by the flag file; the running workers keep serving/
      )
      const after = await findWorkers(port, [1, 2])
      expect(after.get(1)!.pid).toBe(before.get(1)!.pid)
      expect(after.get(2)!.pid).toBe(before.get(2)!.pid)
      // Fixed again, the next SIGHUP goes through.
      rmSync(flag)
      proc.signal('SIGHUP')
      await proc.waitFor(/reload done/)
      // On Bun and Deno the old workers still take connections while they drain.
      for (const { pid } of before.values()) await proc.waitFor(new RegExp(`pid ${pid} drained`))
      const fixed = await findWorkers(port, [1, 2])
      expect(fixed.get(1)!.pid).not.toBe(before.get(1)!.pid)
    } finally {
      rmSync(flag, { force: true })
    }
  })
})
