// The bun adapter, under bun: it serves a fetch handler, and its drain lets a request in flight
// finish while telling keep-alive clients to close their connection.
import { describe, expect, it } from 'vitest'
import { fixture, Proc, runtimeCommand } from '../../test/harness.ts'

describe('bunRuntime, under bun', () => {
  it('serves, then drains: the request in flight finishes, new ones are told to close', async () => {
    const proc = new Proc([...runtimeCommand.bun, fixture('adapter-drain.mjs')])
    const [line] = await proc.waitFor(/^\{.*\}$/)
    const seen = JSON.parse(line!)
    expect(seen).toMatchObject({ runtime: 'bun', adapter: 'bun' })
    expect(seen.before).toMatchObject({ status: 200, body: 'slept 20' })
    expect(seen.before.connection).not.toBe('close')
    expect(seen.during).toEqual({ status: 200, body: 'slept 0', connection: 'close' })
    expect(seen.slow).toMatchObject({ status: 200, body: 'slept 300' })
  })
})
