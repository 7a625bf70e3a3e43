import { probe } from '@bento/native'
import { describe, expect, it } from 'vitest'
import { startBento } from '../../../test/support/bento.ts'
import { greeter, project } from './project.ts'

async function run(args: string[], cwd: string) {
  const bento = startBento('node', args, { cwd })
  const { code } = await bento.exited
  return { code, output: bento.output }
}

describe('bento info', () => {
  it('prints the probe as one JSON object, with the fields the probe documents', async () => {
    const { code, output } = await run(['info', '--json'], project({}))
    expect(code).toBe(0)
    const info = JSON.parse(output)
    // What this machine is, as the probe reads it in this process: the same CPUs, cgroup, memory
    // limit and GPUs (memory in use moves between the two reads, so only its type is compared).
    const here = probe()
    expect(info.source).toBe(here.source)
    expect(info.cpu).toEqual(here.cpu)
    expect(info.gpus).toEqual(here.gpus)
    expect(info.nvml).toEqual(here.nvml)
    expect({ ...info.memory, usage: typeof info.memory.usage }).toEqual({
      ...here.memory,
      usage: typeof here.memory.usage,
    })
    expect(info).not.toHaveProperty('plan')
  })

  it('adds the worker plan with its reasons and each worker’s variables for an entry', async () => {
    const source = greeter('v1').replace(
      "name: 'greeter',",
      "name: 'greeter',\n  workers: 'cpu_count',"
    )
    const { code, output } = await run(
      ['info', 'service.ts', '--json'],
      project({ 'service.ts': source })
    )
    expect(code).toBe(0)
    const { plan, cpu } = JSON.parse(output)
    expect(plan.workers).toBe(Math.max(1, Math.ceil(cpu.effective)))
    expect(plan.reasons.join('\n')).toMatch(/cpu_count/)
    expect(plan.assignments).toHaveLength(plan.workers)
    expect(plan.assignments[0]).toMatchObject({ workerIndex: 1, env: { BENTO_WORKER_INDEX: '1' } })
  })

  it('prints a readable summary', async () => {
    const { code, output } = await run(
      ['info', 'service.ts'],
      project({ 'service.ts': greeter('v1') })
    )
    expect(code).toBe(0)
    expect(output).toMatch(/^cpu\s+\S+ effective/m)
    expect(output).toMatch(/^memory/m)
    expect(output).toMatch(/^plan\s+1 worker/m)
  })

  it('plans every service of a graph, dependencies first, and only those served here', async () => {
    const source = `import { api, depends, service } from '@bento/core'
const echo = api({ handler: () => 'ok' })
const model = service({ name: 'model', workers: 2, apis: { echo } })
const far = service({ name: 'far', apis: { echo } })
export default service({
  name: 'api',
  workers: 1,
  depends: { model, far: depends(far, { url: 'http://far:3000' }) },
  apis: { echo },
})
`
    const cwd = project({ 'service.ts': source })
    const json = await run(['info', 'service.ts', '--json'], cwd)
    expect(json.code).toBe(0)
    const body = JSON.parse(json.output)
    expect(
      body.services.map((s: { name: string; plan: { workers: number } }) => [
        s.name,
        s.plan.workers,
      ])
    ).toEqual([
      ['model', 2],
      ['api', 1],
    ])
    expect(body.plan.workers).toBe(1)
    expect(body.remote).toEqual({ far: 'http://far:3000' })

    const text = await run(['info', 'service.ts', '--depends', 'model=http://model:3000'], cwd)
    expect(text.code).toBe(0)
    expect(text.output).not.toMatch(/plan\s+model:/)
    expect(text.output).toMatch(/^remote\s+model at http:\/\/model:3000$/m)
    const graph = await run(['info', 'service.ts'], cwd)
    expect(graph.output).toMatch(/^plan\s+model: 2 workers$/m)
    expect(graph.output).toMatch(/^plan\s+api: 1 worker$/m)
  })
})
