import { describe, expect, it } from 'vitest'
import { banner, type Started, workerModule } from './start.ts'

function started(kind: 'service' | 'app', graph = false): Started {
  const hello = {
    name: 'hello',
    settings: {} as never,
    onDeployment: false,
    apis: [{ name: 'greet', route: '/greet', method: 'POST', batchable: false }],
    depends: {},
  }
  const plan = { workers: 3 } as Started['serving']['plan']
  return {
    file: '/app/app.ts',
    compiled: undefined,
    serving: {
      url: 'http://localhost:3000',
      plan,
      logger: { log() {}, output() {} },
      description: { kind, services: [hello], graph: [] },
      layout: {
        entry: { kind, services: [hello] },
        only: undefined,
        local: [],
        remote: new Map(graph ? [['far', 'http://far:3000']] : []),
        addresses: new Map(),
      },
      pools: graph ? [{ name: 'model', plan, internal: true, supervisor: {} as never }] : [],
      supervisor: {
        runtime: 'node',
        workers: () => [{ status: 'ready' }, { status: 'ready' }, { status: 'draining' }],
      } as unknown as Started['serving']['supervisor'],
    },
  }
}

describe('banner', () => {
  it('says where a service answers, on what, with how many workers, and lists its APIs', () => {
    expect(banner(started('service'), 'serve')).toBe(
      [
        'bento serve: hello on node, 2 workers, at http://localhost:3000',
        '  docs http://localhost:3000/   openapi http://localhost:3000/docs.json   metrics http://localhost:3000/metrics',
        '  POST http://localhost:3000/greet',
      ].join('\n')
    )
  })

  it('names an app by its file and lists the services it serves', () => {
    expect(banner(started('app'), 'dev')).toBe(
      'bento dev: /app/app.ts on node, 2 workers, at http://localhost:3000\n  serves hello'
    )
  })

  it('names the dependencies served here and those called elsewhere', () => {
    expect(banner(started('app', true), 'serve').split('\n').at(-1)).toBe(
      '  depends on model (3 workers), far at http://far:3000'
    )
  })
})

describe('workerModule', () => {
  it("is this package's worker.js outside Deno's npm cache", () => {
    expect(String(workerModule())).toMatch(/\/worker\.js$/)
  })
})
