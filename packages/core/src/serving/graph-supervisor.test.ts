import { describe, expect, it } from 'vitest'
import type { Supervisor, SupervisorExit } from '../supervisor/supervisor.ts'
import { superviseGraph } from './graph-supervisor.ts'

/** A supervisor that records what it is asked, and ends when stopped (or when told to). */
function fake(name: string, log: string[]) {
  let end!: (exit: SupervisorExit) => void
  const exited = new Promise<SupervisorExit>((resolve) => {
    end = resolve
  })
  const supervisor = {
    ready: Promise.resolve(),
    exited,
    port: name === 'entry' ? 3000 : undefined,
    runtime: 'node',
    workers: () => [],
    reload: async () => {
      log.push(`reload ${name}`)
    },
    stop: async () => {
      log.push(`stop ${name}`)
      end({ code: 0 })
      return exited
    },
    kill: async () => {
      log.push(`kill ${name}`)
      end({ code: 1, error: new Error('killed') })
      return exited
    },
    gather: async () => [name],
    stats: () => ({ restarts: {}, recycles: {} }),
    endpoints: () => [],
    setPeers: () => {},
  } as unknown as Supervisor
  return { supervisor, end }
}

describe('superviseGraph', () => {
  it('reloads dependencies first and stops the entry first', async () => {
    const log: string[] = []
    const model = fake('model', log)
    const ranker = fake('ranker', log)
    const entry = fake('entry', log)
    let cleaned = false
    const graph = superviseGraph(
      entry.supervisor,
      [
        { name: 'model', supervisor: model.supervisor },
        { name: 'ranker', supervisor: ranker.supervisor },
      ],
      () => {
        cleaned = true
      }
    )
    expect(graph.port).toBe(3000)
    expect(await graph.gather('x')).toEqual(['entry'])
    await graph.reload()
    expect(log).toEqual(['reload model', 'reload ranker', 'reload entry'])
    log.length = 0
    expect(await graph.stop()).toEqual({ code: 0 })
    expect(log).toEqual(['stop entry', 'stop ranker', 'stop model'])
    expect(cleaned).toBe(true)
  })

  it('ends the whole graph, with its error, when one pool ends on its own', async () => {
    const log: string[] = []
    const model = fake('model', log)
    const entry = fake('entry', log)
    const graph = superviseGraph(
      entry.supervisor,
      [{ name: 'model', supervisor: model.supervisor }],
      () => {}
    )
    const crash = new Error('worker 1 exited 5 times')
    model.end({ code: 1, error: crash })
    const exit = await graph.exited
    expect(exit).toEqual({ code: 1, error: crash })
    // The entry drained (the model's pool was already gone).
    expect(log[0]).toBe('stop entry')
  })
})
