// Warm standbys (serve({ standby })), under Node, Bun and Deno: a process per worker that has loaded
// the runtime, bento and the preload module but not the entry, which a reload takes instead of
// starting a process; a fresh reload starts new ones; none outlives the supervisor.
import { readdirSync, readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'
import {
  alive,
  eventually,
  fixture,
  type Info,
  info,
  launchSupervisor,
  Proc,
  RUNTIMES,
  runtimeCommand,
} from './harness.ts'

function serveWithStandby(runtime: (typeof RUNTIMES)[number]): Proc {
  return new Proc([...runtimeCommand[runtime], fixture('standby.mjs')], {
    BENTO_TEST_CONFIG: JSON.stringify({ entry: './cpu-service.mjs', workers: 1 }),
  })
}

// The live children of `pid`, from /proc.
function childrenOf(pid: number): number[] {
  const children: number[] = []
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    try {
      // The command name may hold spaces and parentheses: the fields start after the last ')'.
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8')
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1])
      if (ppid === pid && alive(Number(name))) children.push(Number(name))
    } catch {
      // Gone meanwhile.
    }
  }
  return children
}

// A worker's line, after its "[worker N] " prefix.
const said = (proc: Proc, line: string) => proc.lines.some((l) => l.endsWith(`] ${line}`))

// The one child that is neither a worker nor the deployment process (which exits once described).
async function standbyOf(proc: Proc, workers: number[]): Promise<number> {
  let found: number[] = []
  const ok = await eventually(() => {
    found = childrenOf(proc.pid).filter((pid) => !workers.includes(pid))
    return found.length === 1 && said(proc, `preloaded pid=${found[0]}`)
  }, 15_000)
  if (!ok)
    throw new Error(`no single preloaded standby (children ${found}); output:\n${proc.output}`)
  return found[0]!
}

// /info from a process other than `old`, within 15 s.
async function answerFromAnother(port: number, old: number[]): Promise<Info> {
  const deadline = Date.now() + 15_000
  while (Date.now() < deadline) {
    const answer = await info(port)
    if (!old.includes(answer.pid)) return answer
    await new Promise((r) => setTimeout(r, 5))
  }
  throw new Error(`only processes ${old} answered /info for 15 s`)
}

describe.each(RUNTIMES)('%s', (runtime) => {
  it('takes the preloaded standby on reload, starts a fresh process when asked, and leaves none behind', async () => {
    const proc = serveWithStandby(runtime)
    const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
    const first = await info(Number(port))
    expect(first.preloaded).toBeNull() // The first worker starts cold.

    const standby = await standbyOf(proc, [first.pid])
    // Waiting, it has not imported the entry: the entry's code is the one the reload will see.
    expect(said(proc, `entry imported pid=${standby}`)).toBe(false)

    proc.signal('SIGHUP')
    await proc.waitFor(/^TEST RELOADED/)
    const second = await answerFromAnother(Number(port), [first.pid])
    expect(second).toMatchObject({ pid: standby, preloaded: String(standby) })
    expect(said(proc, `entry imported pid=${standby}`)).toBe(true)
    expect(said(proc, `onStartup ran worker=1 pid=${standby}`)).toBe(true)

    // The next reload's standby is made once this worker is ready; a fresh reload passes it by.
    const next = await standbyOf(proc, [first.pid, standby])
    const reloads = proc.lines.filter((line) => line === 'TEST RELOADED').length
    proc.signal('SIGUSR2')
    await eventually(
      () => proc.lines.filter((line) => line === 'TEST RELOADED').length > reloads,
      15_000
    )
    // On Bun and Deno a draining worker may still answer for a moment: neither old one counts.
    const third = await answerFromAnother(Number(port), [first.pid, standby])
    expect(third.pid).not.toBe(next)
    expect(third.preloaded).toBeNull()
    expect(await eventually(() => !alive(next), 5_000)).toBe(true)

    const last = await standbyOf(proc, [first.pid, standby, third.pid])
    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
    expect(alive(last)).toBe(false)
    expect(alive(third.pid)).toBe(false)
  })

  it('takes a standby that a reload reached before it connected', async () => {
    const proc = serveWithStandby(runtime)
    const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
    const first = await info(Number(port))
    proc.signal('SIGHUP') // The standby is spawned as the worker turns ready: it is still booting.
    await proc.waitFor(/^TEST RELOADED/)
    const second = await answerFromAnother(Number(port), [first.pid])
    expect(second.preloaded).toBe(String(second.pid))
  })
})

it('says so when the worker module cannot wait as a standby, and keeps serving', async () => {
  // supervisor.mjs runs worker.mjs, which calls runWorker() itself: its code is loaded at once.
  const proc = launchSupervisor('node', { workers: 1, standby: true })
  const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
  await proc.waitFor(/cannot wait as a warm standby .*runEntry\(\)/)
  expect((await info(Number(port))).index).toBe(1)
})
