// runtimeName() answers for the runtime it runs in, under each of them.
import { describe, expect, it } from 'vitest'
import { fixture, Proc, RUNTIMES, runtimeCommand } from '../../test/harness.ts'
import { runtimeName } from './detect.ts'

describe('runtimeName', () => {
  it('is node in vitest', () => {
    expect(runtimeName()).toBe('node')
  })

  it.each(RUNTIMES)('answers %s under that runtime', async (runtime) => {
    const proc = new Proc([...runtimeCommand[runtime], fixture('print-runtime.mjs')])
    const [, name] = await proc.waitFor(/^runtime=(\w+)$/)
    expect(name).toBe(runtime)
  })
})
