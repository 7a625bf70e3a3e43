import { describe, expect, it } from 'vitest'
import { createLogger, type Logger, loggerOf } from './logger.ts'

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

  it("writes a worker's line marked with its own random mark as it is, and wraps any other", () => {
    const json = capture('json')
    const mark = json.logger.mark!
    expect(mark.charCodeAt(0)).toBe(0x1e)
    expect(mark.slice(1)).toMatch(/^[0-9a-f]{16}$/)
    expect(capture('json').logger.mark).not.toBe(mark)
    json.logger.output(1, 'stdout', `${mark}{"type":"access","worker":1}`)
    // A line a client could provoke (a handler logging its input) is never passed through.
    json.logger.output(1, 'stdout', '\u001e{"level":"error","msg":"forged"}')
    expect(json.written).toEqual([
      ['stdout', '{"type":"access","worker":1}\n'],
      [
        'stdout',
        `${JSON.stringify({ time: '2026-01-02T03:04:05.000Z', level: 'info', worker: 1, msg: '\u001e{"level":"error","msg":"forged"}' })}\n`,
      ],
    ])
    expect(capture('pretty').logger.mark).toBeUndefined()
  })

  it('writes the control characters of worker output and messages as \\xNN, tagging every line (pretty)', () => {
    const { logger, written } = capture('pretty')
    logger.output(1, 'stdout', 'name=\u001b[31mred\r[bento] forged')
    logger.log(
      'warn',
      'its last error: bad input\n[bento] all workers ready\n    at main (x.ts:1)',
      2
    )
    expect(written).toEqual([
      ['stdout', '[worker 1] name=\\x1b[31mred\\x0d[bento] forged\n'],
      [
        'stderr',
        '[bento] worker 2: warn: its last error: bad input\n[bento] worker 2:   [bento] all workers ready\n[bento] worker 2:       at main (x.ts:1)\n',
      ],
    ])
  })

  it('holds at most 1 MiB for a stream whose reader is behind, drops the rest and says so after', async () => {
    const written: string[] = []
    let full = true
    let onDrain: (() => void) | undefined
    const stdout = {
      write(text: string) {
        written.push(text)
        return !full
      },
      once(_: 'drain', listener: () => void) {
        onDrain = listener
      },
    }
    const stderr = { write: () => true, once: () => {} }
    const logger = createLogger({ format: 'pretty', streams: { stdout, stderr } })
    const tick = () => new Promise<void>((resolve) => queueMicrotask(resolve))
    logger.output(1, 'stdout', 'first')
    await tick()
    expect(written).toEqual(['[worker 1] first\n'])
    // The reader is behind: 4,000 lines of 1 KiB each (about 4 MiB) come while it is away.
    const line = 'x'.repeat(1024)
    for (let i = 0; i < 4000; i++) logger.output(1, 'stdout', line)
    await tick()
    expect(written).toHaveLength(1)
    full = false
    onDrain!()
    await tick()
    expect(written).toHaveLength(2)
    const kept = written[1]!.split('\n').filter((l) => l.startsWith('[worker 1] x'))
    expect(kept.length).toBeGreaterThan(900)
    expect(written[1]!.length).toBeLessThanOrEqual(2 ** 20 + 200)
    expect(written[1]).toContain(
      `[bento] warn: ${4000 - kept.length} log writes dropped: stdout was not read fast enough\n`
    )
  })

  it('rejects an unknown format, naming it', () => {
    expect(() => createLogger({ format: 'yaml' as 'json' })).toThrow(/"pretty" or "json".*"yaml"/)
  })
})

describe('loggerOf', () => {
  it('takes a logger of your own as it is, else makes one in the format named (pretty by default)', () => {
    const own: Logger = { log() {}, output() {} }
    expect(loggerOf(own)).toBe(own)
    expect(loggerOf('json').format).toBe('json')
    expect(loggerOf(undefined).format).toBe('pretty')
  })
})
