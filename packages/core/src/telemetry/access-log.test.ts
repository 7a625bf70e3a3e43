import { describe, expect, it } from 'vitest'
import { ManualClock } from '../../test/manual-clock.ts'
import { type AccessEntry, AccessLog } from './access-log.ts'

const entry: AccessEntry = {
  method: 'POST',
  route: '/greet',
  status: 200,
  durationMs: 1.23456,
  bytes: 36,
  requestId: 'r-1',
  traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
}
const now = () => new Date('2026-12-02T10:00:00.000Z')

/** A text access log on a manual clock, and what it wrote. */
function textLog() {
  const writes: string[] = []
  const clock = new ManualClock()
  const log = new AccessLog({
    format: 'text',
    worker: 1,
    service: 'hello',
    clock,
    write: (text) => writes.push(text) > 0,
  })
  return { writes, clock, log }
}

describe('AccessLog', () => {
  it('gathers lines and writes them in one batch 50 ms after the first', async () => {
    const { writes, clock, log } = textLog()
    log.add(entry)
    await clock.advance(49)
    log.add({ ...entry, status: 404, route: '/nope', bytes: undefined, traceId: undefined })
    expect(writes).toEqual([])
    await clock.advance(1)
    expect(writes).toEqual([
      'POST /greet 200 1.23ms 36B id=r-1 trace=4bf92f3577b34da6a3ce929d0e0e4736\nPOST /nope 404 1.23ms - id=r-1\n',
    ])
  })

  it('writes the control characters of a path as \\xNN in a text line, so no URL forges a line', async () => {
    const { writes, clock, log } = textLog()
    log.add({
      ...entry,
      status: 404,
      route: '/x\n[bento] worker 1: \u001b[31mforged\r',
      traceId: undefined,
    })
    await clock.advance(50)
    expect(writes).toEqual([
      'POST /x\\x0a[bento] worker 1: \\x1b[31mforged\\x0d 404 1.23ms 36B id=r-1\n',
    ])
  })

  it('writes JSON with the marker the supervisor passes through', () => {
    const writes: string[] = []
    const log = new AccessLog({
      format: 'json',
      worker: 2,
      service: 'hello',
      prefix: '\u001e',
      now,
      write: (text) => writes.push(text) > 0,
    })
    log.add(entry)
    log.flush()
    expect(writes[0]!.startsWith('\u001e{')).toBe(true)
    expect(JSON.parse(writes[0]!.slice(1))).toEqual({
      time: '2026-12-02T10:00:00.000Z',
      level: 'info',
      service: 'hello',
      worker: 2,
      msg: 'POST /greet 200',
      type: 'access',
      method: 'POST',
      route: '/greet',
      status: 200,
      duration_ms: 1.23,
      bytes: 36,
      request_id: 'r-1',
      trace_id: '4bf92f3577b34da6a3ce929d0e0e4736',
    })
  })

  it('drops and counts lines while the reader is behind, and says how many once it caught up', () => {
    const writes: string[] = []
    let resume: (() => void) | undefined
    const log = new AccessLog({
      format: 'text',
      worker: 1,
      service: 'hello',
      write: (text) => {
        writes.push(text)
        return resume !== undefined || writes.length > 1
      },
      drained: (callback) => {
        resume = callback
      },
    })
    log.add(entry)
    log.flush()
    log.add(entry)
    log.add(entry)
    expect(log.dropped).toBe(2)
    resume!()
    expect(writes.at(-1)).toBe(
      'access log: 2 lines dropped while the output was not read fast enough\n'
    )
    log.add(entry)
    log.flush()
    expect(writes.at(-1)).toContain('POST /greet 200')
  })
})
