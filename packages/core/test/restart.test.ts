// Crashed workers come back with their index; a crash loop ends the supervisor with the error.
import { describe, expect, it } from 'vitest'
import {
  alive,
  eventually,
  findReplaced,
  findWorkers,
  get,
  info,
  launchSupervisor,
  RUNTIMES,
  startSupervisor,
  TARGETS,
} from './harness.ts'

describe.each(TARGETS)('%s', (target) => {
  it('restarts a SIGKILLed worker with the same index and a new pid', async () => {
    const { proc, port } = await startSupervisor(target, { onDeployment: true })
    const before = await findWorkers(port, [1, 2])
    const victim = before.get(1)!.pid
    process.kill(victim, 'SIGKILL')
    await proc.waitFor(/worker 1: warn: pid \d+ was killed by SIGKILL; restarting in \d+ ms/)
    const [, newPid] = await proc.waitFor(
      new RegExp(`worker 1: ready \\(pid (?!${victim}\\))(\\d+)\\)`)
    )
    // Only the new process answers for index 1 now; worker 2 was left alone.
    let back: Awaited<ReturnType<typeof info>> | undefined
    for (let i = 0; i < 300 && back === undefined; i++) {
      const answer = await info(port)
      if (answer.index === 1) back = answer
    }
    expect(back).toMatchObject({ index: 1, pid: Number(newPid), slot: 'slot-1', status: 'ready' })
    expect(alive(victim)).toBe(false)
    expect(alive(before.get(2)!.pid)).toBe(true)
    // onDeployment belongs to the deployment, not to each worker start.
    expect(proc.lines.filter((line) => /onDeployment ran/.test(line))).toHaveLength(1)
  })

  it('always restarts a worker that served and was then killed, and never stops the service for it', async () => {
    // maxRestarts 1 and a long minUptime: only having answered a request makes these exits stable.
    const { proc, port } = await startSupervisor(target, {
      restart: { maxRestarts: 1, minUptime: 60 },
    })
    let pid = (await findWorkers(port, [1, 2])).get(1)!.pid
    for (let kill = 1; kill <= 4; kill++) {
      process.kill(pid, 'SIGKILL')
      await proc.waitFor(new RegExp(`worker 1: warn: pid ${pid} was killed by SIGKILL; restarting`))
      pid = (await findReplaced(port, 1, pid)).pid
    }
    expect(proc.child.exitCode).toBeNull()
    expect(proc.output).not.toMatch(/exited \d+ times within/)
    expect((await get(port, '/info')).status).toBe(200)
    const stats = JSON.parse((await get(port, '/stats')).body)
    expect(stats.restarts.crash).toBe(4)
  })

  it('restarts a ready worker killed before it served anything, and never stops the service for it', async () => {
    // A chaos tool (or the OOM killer) may kill a worker the kernel has not handed a connection
    // yet: with maxRestarts 1 and a long minUptime, only the signal from outside makes it stable.
    const proc = launchSupervisor(target, { restart: { maxRestarts: 1, minUptime: 60 } })
    const killed: string[] = []
    for (let kill = 1; kill <= 3; kill++) {
      // waitFor reads the whole output: the next ready line is the first of a pid not yet killed.
      const fresh = killed.map((p) => `(?!${p}\\))`).join('')
      const [, pid] = await proc.waitFor(new RegExp(`worker 1: ready \\(pid ${fresh}(\\d+)\\)`))
      process.kill(Number(pid), 'SIGKILL')
      killed.push(pid!)
      await proc.waitFor(new RegExp(`worker 1: warn: pid ${pid} was killed by SIGKILL; restarting`))
    }
    await proc.waitFor(
      new RegExp(`worker 1: ready \\(pid ${killed.map((p) => `(?!${p}\\))`).join('')}\\d+\\)`)
    )
    expect(proc.child.exitCode).toBeNull()
    expect(proc.output).not.toMatch(/exited \d+ times within/)
    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
  })
})

// When the service stops is the supervisor's decision, whatever the port sharing: these run once
// per runtime (each runtime reports a worker's exit its own way), not again for node/shared-socket.
describe.each(RUNTIMES)('%s', (target) => {
  it('ends with a non-zero code and the worker error after a crash loop', async () => {
    const proc = launchSupervisor(target, {
      env: { CRASH_ON_STARTUP: 'model file is corrupt' },
      restart: { maxRestarts: 2, backoff: { initial: 0.01, max: 0.04 } },
    })
    const { code } = await proc.exited
    expect(code).toBe(1)
    expect(proc.output).toMatch(
      /worker \d exited 3 times within 60 s before it was ready or within restart\.minUptime \(1 s\) of it \(restart\.maxRestarts is 2\); its last error: model file is corrupt \(worker \d\)/
    )
    // It was restarted with backoff before giving up, and never reported ready.
    expect(proc.output).toMatch(/restarting in \d+ ms/)
    expect(proc.output).not.toMatch(/TEST READY/)
    // Nothing is left behind.
    const pids = [...proc.output.matchAll(/worker started pid=(\d+)/g)].map((m) => Number(m[1]))
    expect(pids.length).toBeGreaterThanOrEqual(3)
    expect(await eventually(() => pids.every((pid) => !alive(pid)), 2000)).toBe(true)
  })

  it('still stops the service when a ready worker keeps exiting by itself before serving', async () => {
    // 2 s after ready, well within minUptime: long enough for a busy supervisor to have read the
    // worker's ready message before its exit (the test is of the decision, not of a race).
    const proc = launchSupervisor(target, {
      env: { EXIT_AFTER_READY_MS: '2000' },
      restart: { maxRestarts: 1, minUptime: 60, backoff: { initial: 0.01, max: 0.04 } },
    })
    const { code } = await proc.exited
    expect(code).toBe(1)
    expect(proc.output).toMatch(
      /worker \d exited 2 times within 60 s before it was ready or within restart\.minUptime/
    )
    expect(proc.output).toMatch(/TEST READY|ready \(pid/)
  })
})
