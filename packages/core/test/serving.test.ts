// One port, every worker behind it, under Node, Bun and Deno: indices, environment, output
// prefixes, onDeployment, gather over IPC, and a busy port.
import net from 'node:net'
import { describe, expect, it } from 'vitest'
import {
  findWorkers,
  fixture,
  get,
  launchSupervisor,
  Proc,
  RUNTIMES,
  runtimeCommand,
  startSupervisor,
} from './harness.ts'

describe.each(RUNTIMES)('%s', (runtime) => {
  it('spreads requests over both workers, each with its 1-based index and its own env', async () => {
    const { port } = await startSupervisor(runtime)
    const workers = await findWorkers(port, [1, 2])
    expect([...workers.keys()].sort()).toEqual([1, 2])
    expect(workers.get(1)).toMatchObject({ index: 1, count: 2, slot: 'slot-1', status: 'ready' })
    expect(workers.get(2)).toMatchObject({ index: 2, count: 2, slot: 'slot-2', status: 'ready' })
    expect(workers.get(1)!.pid).not.toBe(workers.get(2)!.pid)
  })

  it('runs onDeployment once, before any worker starts, and prefixes worker output', async () => {
    const { proc } = await startSupervisor(runtime, { onDeployment: true })
    const lines = proc.lines
    const deployment = lines.findIndex((line) => /^onDeployment ran/.test(line))
    const firstWorker = lines.findIndex((line) => /worker started/.test(line))
    expect(deployment).toBeGreaterThanOrEqual(0)
    expect(lines.filter((line) => /onDeployment ran/.test(line))).toHaveLength(1)
    expect(firstWorker).toBeGreaterThan(deployment)
    expect(lines).toContainEqual(expect.stringMatching(/^\[worker 1\] worker started pid=\d+$/))
    expect(lines).toContainEqual(expect.stringMatching(/^\[worker 2\] worker started pid=\d+$/))
  })

  it('writes one JSON object per line in the json log format', async () => {
    const { proc } = await startSupervisor(runtime, { logFormat: 'json' })
    const entries = proc.lines
      .filter((line) => !line.startsWith('TEST '))
      .map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(entries.length).toBeGreaterThan(3)
    for (const entry of entries) {
      expect(entry).toEqual(
        expect.objectContaining({
          time: expect.any(String),
          level: expect.any(String),
          msg: expect.any(String),
        })
      )
    }
    expect(entries).toContainEqual(
      expect.objectContaining({
        level: 'info',
        worker: 2,
        msg: expect.stringMatching(/^worker started/),
      })
    )
  })

  it("gathers every worker's answer through the supervisor", async () => {
    const { port } = await startSupervisor(runtime)
    const workers = await findWorkers(port, [1, 2])
    const reply = await get(port, '/gather?topic=pid')
    expect(reply.status).toBe(200)
    const pids = (JSON.parse(reply.body) as number[]).sort()
    expect(pids).toEqual([workers.get(1)!.pid, workers.get(2)!.pid].sort())
    // A topic nobody answers gathers nothing.
    expect(JSON.parse((await get(port, '/gather?topic=nothing')).body)).toEqual([])
  })

  it('fails with a clear error before any worker starts when the port is in use', async () => {
    const blocker = net.createServer()
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve))
    const port = (blocker.address() as net.AddressInfo).port
    try {
      const proc = launchSupervisor(runtime, { port, onDeployment: true })
      const { code } = await proc.exited
      expect(code).toBe(1)
      expect(proc.output).toMatch(new RegExp(`port ${port} is in use on 127\\.0\\.0\\.1\\. Fix: `))
      expect(proc.output).not.toMatch(/worker started|onDeployment ran/)
    } finally {
      blocker.close()
    }
  })

  it('serves standalone on $PORT without a supervisor, and drains on SIGTERM', async () => {
    const probe = net.createServer()
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve))
    const port = (probe.address() as net.AddressInfo).port
    await new Promise<void>((resolve) => probe.close(() => resolve()))
    const proc = new Proc([...runtimeCommand[runtime], fixture('worker.mjs')], {
      PORT: String(port),
      HOST: '127.0.0.1',
    })
    await proc.waitFor(/^listening on http:\/\/127\.0\.0\.1:\d+/)
    expect(JSON.parse((await get(port, '/info')).body)).toMatchObject({ index: 1, count: 1 })
    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
    expect(proc.output).toMatch(/onShutdown ran worker=1/)
  })
})
