// SIGTERM drains; a SIGKILLed supervisor takes its workers (and the port) with it.
import { describe, expect, it } from 'vitest'
import {
  alive,
  eventually,
  findWorkers,
  get,
  portClosedWithin,
  startSupervisor,
  TARGETS,
} from './harness.ts'

describe.each(TARGETS)('%s', (target) => {
  it('on SIGTERM finishes a 2-second request in flight, runs onShutdown and exits 0', async () => {
    const { proc, port } = await startSupervisor(target)
    const started = Date.now()
    const slow = get(port, '/slow?ms=2000')
    await proc.waitFor(/slow request started ms=2000/)
    proc.signal('SIGTERM')
    const reply = await slow
    expect(reply.status).toBe(200)
    expect(JSON.parse(reply.body)).toMatchObject({ slept: 2000 })
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900)
    const { code } = await proc.exited
    expect(code).toBe(0)
    expect(proc.output).toMatch(/onShutdown ran worker=1/)
    expect(proc.output).toMatch(/onShutdown ran worker=2/)
    expect(proc.output).toMatch(/\[bento\] stopped$/m)
    expect(await portClosedWithin(port, 1000)).toBe(true)
  })

  it('SIGKILLs a worker that has not drained after drainTimeout + shutdownGrace, and exits 0', async () => {
    // drainTimeout 1 s, shutdownGrace 2 s (the fixture's): a worker stuck in a 10 s synchronous
    // loop can't even see the drain message.
    const { proc, port } = await startSupervisor(target, { drainTimeout: 1 })
    const stuck = get(port, '/cpu?ms=10000').catch((error: Error) => error)
    await new Promise((r) => setTimeout(r, 300))
    const stopped = Date.now()
    proc.signal('SIGTERM')
    const { code } = await proc.exited
    expect(code).toBe(0)
    expect(Date.now() - stopped).toBeGreaterThanOrEqual(2500)
    expect(Date.now() - stopped).toBeLessThan(8000)
    expect(proc.output).toMatch(/worker \d: warn: still running 3 s after drain; killing it/)
    expect(await stuck).toBeInstanceOf(Error)
  })

  it('kills every worker at once on a second SIGTERM and exits 1', async () => {
    const { proc, port } = await startSupervisor(target)
    const slow = get(port, '/slow?ms=5000').catch((error: Error) => error)
    await proc.waitFor(/slow request started/)
    proc.signal('SIGTERM')
    await proc.waitFor(/stopping: draining 2 workers/)
    const second = Date.now()
    proc.signal('SIGTERM')
    const { code } = await proc.exited
    expect(code).toBe(1)
    expect(Date.now() - second).toBeLessThan(2000)
    expect(proc.output).toMatch(/killing every worker now/)
    expect(await slow).toBeInstanceOf(Error)
  })

  it('frees the port within 2 seconds when the supervisor is SIGKILLed', async () => {
    const { proc, port } = await startSupervisor(target)
    const workers = await findWorkers(port, [1, 2])
    proc.signal('SIGKILL')
    const killed = Date.now()
    expect(await portClosedWithin(port, 2000)).toBe(true)
    expect(Date.now() - killed).toBeLessThan(2000)
    // The workers noticed the supervisor was gone and exited by themselves.
    const pids = [...workers.values()].map((w) => w.pid)
    expect(await eventually(() => pids.every((pid) => !alive(pid)), 5000)).toBe(true)
  })
})
