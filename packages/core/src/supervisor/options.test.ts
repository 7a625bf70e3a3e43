import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { BentoConfigError } from '../errors.ts'
import { DEFAULTS } from '../service/defaults.ts'
import { resolveOptions, type SuperviseOptions } from './options.ts'

const entry = fileURLToPath(import.meta.url)
const node = { name: 'node', portSharing: ['round-robin', 'shared-socket'] } as const
const bun = { name: 'bun', portSharing: ['reuseport'] } as const
const base: SuperviseOptions = { workerEntry: entry, assignments: [{ workerIndex: 1, env: {} }] }

function problem(overrides: Partial<SuperviseOptions>): string {
  try {
    resolveOptions({ ...base, ...overrides } as SuperviseOptions, node)
  } catch (error) {
    expect(error).toBeInstanceOf(BentoConfigError)
    return (error as Error).message
  }
  throw new Error('expected a BentoConfigError')
}

describe('resolveOptions', () => {
  it('applies the defaults in one place', () => {
    const o = resolveOptions(base, bun)
    expect(o).toMatchObject({
      workerEntry: entry,
      port: DEFAULTS.listen.port,
      host: DEFAULTS.listen.host,
      portSharing: 'reuseport',
      execArgv: [],
      drainTimeout: DEFAULTS.drainTimeout,
      shutdownGrace: DEFAULTS.supervisor.shutdownGrace,
      restart: DEFAULTS.restart,
      gatherTimeoutMs: DEFAULTS.supervisor.gatherTimeoutMs,
    })
  })

  it("picks the runtime's default port sharing", () => {
    expect(resolveOptions(base, node).portSharing).toBe('round-robin')
    expect(resolveOptions({ ...base, portSharing: 'shared-socket' }, node).portSharing).toBe(
      'shared-socket'
    )
  })

  it('merges a partial restart policy over the defaults', () => {
    expect(resolveOptions({ ...base, restart: { maxRestarts: 1 } }, node).restart).toEqual({
      ...DEFAULTS.restart,
      maxRestarts: 1,
    })
  })

  it('accepts a file: URL and a path relative to cwd', () => {
    expect(
      resolveOptions({ ...base, workerEntry: new URL(import.meta.url) }, node).workerEntry
    ).toBe(entry)
    expect(
      resolveOptions(
        {
          ...base,
          workerEntry: 'options.test.ts',
          cwd: new URL('.', import.meta.url).pathname,
        },
        node
      ).workerEntry
    ).toBe(entry)
  })

  it.each<[string, Partial<SuperviseOptions>, RegExp]>([
    [
      'a missing entry',
      { workerEntry: '/nope/worker.js' },
      /workerEntry \/nope\/worker\.js does not exist\. Fix: /,
    ],
    ['no workers', { assignments: [] }, /assignments must be a non-empty array/],
    [
      'index 0',
      { assignments: [{ workerIndex: 0, env: {} }] },
      /assignments\[0\]\.workerIndex must be a positive integer, got 0/,
    ],
    [
      'a repeated index',
      {
        assignments: [
          { workerIndex: 1, env: {} },
          { workerIndex: 1, env: {} },
        ],
      },
      /assignments\[1\]\.workerIndex repeats 1\. Fix: give each worker its own index/,
    ],
    [
      'a non-string env value',
      { env: { N: 1 as unknown as string } },
      /env\.N must be a string, got 1/,
    ],
    ['port 70000', { port: 70_000 }, /port must be an integer from 0 to 65535, got 70000/],
    [
      'drainTimeout 0',
      { drainTimeout: 0 },
      /drainTimeout must be a positive number of seconds, got 0/,
    ],
    [
      'drainTimeout in milliseconds, refused as by service()',
      { drainTimeout: 30_000 },
      /drainTimeout is 30000 seconds \(over 8 hours\)\. Fix: it is in seconds, as in BentoML: write 30 for 30000 ms/,
    ],
    [
      'an env name no shell can set, refused as by service()',
      { env: { '1X': 'a' } },
      /env\.1X is not a valid environment variable name/,
    ],
    [
      'an option it does not know',
      { drainTimeuot: 5 } as Partial<SuperviseOptions>,
      /supervise\(options\)\.drainTimeuot is not a setting\. Fix: did you mean drainTimeout\?/,
    ],
    [
      'a negative backoff',
      { restart: { backoff: { initial: -1 } } },
      /restart\.backoff\.initial must be a positive number of seconds, got -1/,
    ],
    [
      'a string keepRetrying',
      { restart: { keepRetrying: 'yes' as unknown as boolean } },
      /restart\.keepRetrying must be true or false/,
    ],
    [
      'a non-function onDeployment',
      { onDeployment: 'x' as unknown as () => void },
      /onDeployment must be a function/,
    ],
  ])('rejects %s, naming the field and the fix', (_, overrides, message) => {
    const text = problem(overrides)
    expect(text).toMatch(message)
    expect(text).toMatch(/^supervise\(options\)\./)
    expect(text).toMatch(/Fix: /)
  })
})
