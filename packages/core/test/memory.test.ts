// Memory, as operators meet it: a worker the kernel's OOM killer ends is reported as such, with
// the memory limit, and restarted; a worker whose memory stays above maxMemory is replaced by a
// fresh one without a failed request.
import { accessSync, constants, mkdirSync, realpathSync, rmdirSync, writeFileSync } from 'node:fs'
import http from 'node:http'
import { describe, expect, it } from 'vitest'
import {
  findReplaced,
  findWorkers,
  fixture,
  get,
  Proc,
  RUNTIMES,
  runtimeCommand,
  startSupervisor,
} from './harness.ts'

// A writable cgroup v1 memory hierarchy, or why there is none (v2 works the same way for the
// supervisor, through memory.events; this machine kind mounts v1).
function memoryHierarchy(): string | { base: string } {
  if (process.getuid?.() !== 0) return 'creating cgroups needs root'
  try {
    accessSync('/sys/fs/cgroup/memory/memory.oom_control')
    accessSync('/sys/fs/cgroup/memory', constants.W_OK)
    return { base: realpathSync('/sys/fs/cgroup/memory') }
  } catch {
    return 'no writable cgroup v1 memory hierarchy with memory.oom_control'
  }
}

const hierarchy = memoryHierarchy()
const skip = typeof hierarchy === 'string' ? hierarchy : undefined

async function removeCgroup(dir: string) {
  for (let attempt = 0; ; attempt++) {
    try {
      return rmdirSync(dir)
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EBUSY' || attempt === 100) throw error
      await new Promise((r) => setTimeout(r, 20))
    }
  }
}

/** GET that resolves with the error instead of rejecting (the worker may die under it). */
function tryGet(port: number, path: string) {
  return get(port, path).catch((error: Error) => error)
}

describe.each(RUNTIMES)('%s', (runtime) => {
  it.skipIf(skip)(
    `reports a worker ended by the OOM killer, with the memory limit, and restarts it${skip ? ` (skipped: ${skip})` : ''}`,
    async () => {
      const dir = `${(hierarchy as { base: string }).base}/bento-oom-test-${process.pid}-${runtime}`
      mkdirSync(dir)
      writeFileSync(`${dir}/memory.limit_in_bytes`, String(400 * 2 ** 20))
      const proc = new Proc(
        [
          'sh',
          '-c',
          'echo $$ > "$1" && shift && exec "$@"',
          'sh',
          `${dir}/cgroup.procs`,
          ...runtimeCommand[runtime],
          fixture('supervisor.mjs'),
        ],
        { BENTO_TEST_CONFIG: JSON.stringify({ workers: 2 }) }
      )
      try {
        const [, portText] = await proc.waitFor(/^TEST READY port=(\d+)/)
        const port = Number(portText)
        const victim = (await findWorkers(port, [1, 2])).get(1)!.pid
        // Grow worker 1 past the cgroup's limit until the kernel steps in.
        let reply: Awaited<ReturnType<typeof tryGet>> | undefined
        for (let grown = 0; grown < 10 && !(reply instanceof Error); ) {
          reply = await tryGet(port, '/grow?mb=100&index=1')
          if (!(reply instanceof Error) && reply.status === 200) grown++
        }
        expect(reply).toBeInstanceOf(Error)
        await proc.waitFor(
          new RegExp(
            `worker 1: warn: pid ${victim} was killed by the kernel's OOM killer \\(oom_kill in ${dir}/memory\\.oom_control went from 0 to 1\\); the memory limit is 400 MiB \\(${dir}/memory\\.limit_in_bytes\\), shared by 2 workers; restarting in \\d+ ms`
          )
        )
        await findReplaced(port, 1, victim)
        const stats = JSON.parse((await get(port, '/stats')).body)
        expect(stats.restarts).toEqual({ oom: 1 })
      } finally {
        proc.killGroup()
        await proc.exited
        await removeCgroup(dir)
      }
    },
    60_000
  )

  it('replaces a worker whose memory stays above maxMemory, without failing a request', async () => {
    const { proc, port } = await startSupervisor(runtime, {
      maxMemory: '200Mi',
      memoryCheckInterval: 0.2,
      drainTimeout: 2,
      // A successor that takes longer to start than three memory checks, as on a busy machine:
      // the old worker, still over the limit meanwhile, must not be recycled a second time.
      env: { STARTUP_MS: '1500' },
    })
    const before = (await findWorkers(port, [1, 2])).get(1)!.pid
    // Past the first memory check after it became ready (a worker over the limit at its first
    // check is never recycled, since a fresh one would be too).
    await proc.waitFor(/worker 1: resident memory [\d.]+ \w+ at its first check/)
    let grown = false
    while (!grown) grown = (await get(port, '/grow?mb=250&index=1')).status === 200
    // A request loop on keep-alive connections while the worker is replaced.
    const agent = new http.Agent({ keepAlive: true, maxSockets: 4 })
    let failed = 0
    let sent = 0
    let running = true
    const loop = (async () => {
      while (running && sent < 20_000) {
        sent++
        await new Promise<void>((resolve) => {
          http
            .get({ host: '127.0.0.1', port, path: '/info', agent }, (res) => {
              res.resume()
              res.on('end', () => {
                if (res.statusCode !== 200) failed++
                resolve()
              })
            })
            .on('error', () => {
              failed++
              resolve()
            })
        })
      }
    })()
    await proc.waitFor(
      new RegExp(
        `worker 1: warn: resident memory [\\d.]+ MiB stayed above maxMemory \\(200 MiB\\): starting its successor, then draining pid ${before}`
      ),
      20_000
    )
    await proc.waitFor(new RegExp(`worker 1: pid ${before} drained and exited with code 0`), 20_000)
    // One recycle: a second one, queued while the slow successor started, would have begun (and
    // said so) as soon as the first was done, before the old worker finished draining.
    expect(proc.output.match(/stayed above maxMemory/g)).toHaveLength(1)
    const after = await findReplaced(port, 1, before)
    running = false
    await loop
    agent.destroy()
    expect(after.index).toBe(1)
    expect(sent).toBeGreaterThan(50)
    expect(failed).toBe(0)
    const stats = JSON.parse((await get(port, '/stats')).body)
    expect(stats.recycles).toEqual({ memory: 1 })
    expect(stats.restarts).toEqual({})
  })
})
