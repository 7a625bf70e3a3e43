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
    const slow = get(port, '/slow?ms=2000')
    await proc.waitFor(/slow request started ms=2000/)
    proc.signal('SIGTERM')
    const reply = await slow
    expect(reply.status).toBe(200)
    // Answered after its whole 2 s sleep, not cut short by the drain.
    expect(JSON.parse(reply.body)).toMatchObject({ slept: 2000 })
    const { code } = await proc.exited
    expect(code).toBe(0)
    expect(proc.output).toMatch(/onShutdown ran worker=1/)
    expect(proc.output).toMatch(/onShutdown ran worker=2/)
    expect(proc.output).toMatch(/\[bento\] stopped$/m)
    expect(await portClosedWithin(port, 10_000)).toBe(true)
  })

  it('SIGKILLs a worker that has not drained after drainTimeout + shutdownGrace, and exits 0', async () => {
    // drainTimeout 1 s, shutdownGrace 2 s (the fixture's): a worker stuck in a 10 s synchronous
    // loop can't even see the drain message.
    const { proc, port } = await startSupervisor(target, { drainTimeout: 1 })
    const stuck = get(port, '/cpu?ms=10000', 30_000).catch((error: Error) => error)
    await proc.waitFor(/cpu request started ms=10000/)
    proc.signal('SIGTERM')
    const { code } = await proc.exited
    expect(code).toBe(0)
    // Killed by the drain's timer (drainTimeout + shutdownGrace = 3 s), not by its own end: the
    // request it was stuck in never got an answer.
    expect(proc.output).toMatch(/worker \d: warn: still running 3 s after drain; killing it/)
    expect(await stuck).toBeInstanceOf(Error)
  })

  it('kills every worker at once on a second SIGTERM and exits 1', async () => {
    const { proc, port } = await startSupervisor(target)
    const slow = get(port, '/slow?ms=5000').catch((error: Error) => error)
    await proc.waitFor(/slow request started/)
    proc.signal('SIGTERM')
    await proc.waitFor(/stopping: draining 2 workers/)
    proc.signal('SIGTERM')
    const { code } = await proc.exited
    expect(code).toBe(1)
    expect(proc.output).toMatch(/killing every worker now/)
    // The 5 s request in flight was not waited for: it failed rather than being answered.
    expect(await slow).toBeInstanceOf(Error)
  })

  it('frees the port when the supervisor is SIGKILLed', async () => {
    const { proc, port } = await startSupervisor(target)
    const workers = await findWorkers(port, [1, 2])
    proc.signal('SIGKILL')
    expect(await portClosedWithin(port, 10_000)).toBe(true)
    // The workers noticed the supervisor was gone and exited by themselves.
    const pids = [...workers.values()].map((w) => w.pid)
    expect(await eventually(() => pids.every((pid) => !alive(pid)), 10_000)).toBe(true)
  })
})
