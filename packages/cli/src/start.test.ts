import { describe, expect, it } from 'vitest'
import { banner, type Started, workerModule } from './start.ts'

function started(kind: 'service' | 'app'): Started {
  return {
    file: '/app/app.ts',
    compiled: undefined,
    serving: {
      url: 'http://localhost:3000',
      plan: {} as Started['serving']['plan'],
      logger: { log() {}, output() {} },
      description: {
        kind,
        services: [
          {
            name: 'hello',
            settings: {} as never,
            onDeployment: false,
            apis: [{ name: 'greet', route: '/greet', method: 'POST', batchable: false }],
          },
        ],
      },
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
})

describe('workerModule', () => {
  it("is this package's worker.js outside Deno's npm cache", () => {
    expect(String(workerModule())).toMatch(/\/worker\.js$/)
  })
})
