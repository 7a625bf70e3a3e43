import { describe, expect, it } from 'vitest'
import { createLogger, RAW_LINE } from './logger.ts'

function capture(format: 'pretty' | 'json') {
  const written: [string, string][] = []
  const logger = createLogger({
    format,
    write: (stream, text) => written.push([stream, text]),
    now: () => new Date('2026-01-02T03:04:05.000Z'),
  })
  return { logger, written }
}

describe('createLogger', () => {
  it('prefixes worker lines with the index and keeps their stream (pretty)', () => {
    const { logger, written } = capture('pretty')
    logger.output(2, 'stdout', 'loaded')
    logger.output(1, 'stderr', 'oops')
    logger.log('info', 'all 2 workers ready')
    logger.log('warn', 'exited with code 1', 1)
    expect(written).toEqual([
      ['stdout', '[worker 2] loaded\n'],
      ['stderr', '[worker 1] oops\n'],
      ['stderr', '[bento] all 2 workers ready\n'],
      ['stderr', '[bento] worker 1: warn: exited with code 1\n'],
    ])
  })

  it('writes one JSON object per line with time, level, worker and msg (json)', () => {
    const { logger, written } = capture('json')
    logger.output(2, 'stdout', 'say "hi"')
    logger.output(1, 'stderr', 'oops')
    logger.log('info', 'ready')
    const parsed = written.map(([stream, text]) => {
      expect(stream).toBe('stdout')
      expect(text.endsWith('\n')).toBe(true)
      return JSON.parse(text)
    })
    expect(parsed).toEqual([
      { time: '2026-01-02T03:04:05.000Z', level: 'info', worker: 2, msg: 'say "hi"' },
      { time: '2026-01-02T03:04:05.000Z', level: 'error', worker: 1, msg: 'oops' },
      { time: '2026-01-02T03:04:05.000Z', level: 'info', msg: 'ready' },
    ])
  })

  it("writes a worker's marked JSON line as it is, not wrapped in another", () => {
    const json = capture('json')
    json.logger.output(1, 'stdout', `${RAW_LINE}{"type":"access","worker":1}`)
    expect(json.written).toEqual([['stdout', '{"type":"access","worker":1}\n']])
    const pretty = capture('pretty')
    pretty.logger.output(1, 'stdout', `${RAW_LINE}POST /greet 200`)
    expect(pretty.written).toEqual([['stdout', '[worker 1] POST /greet 200\n']])
  })

  it('rejects an unknown format, naming it', () => {
    expect(() => createLogger({ format: 'yaml' as 'json' })).toThrow(/"pretty" or "json".*"yaml"/)
  })
})
