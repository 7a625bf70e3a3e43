import { describe, expect, it } from 'vitest'
import { refuseListenFd } from './shared.ts'

describe('refuseListenFd', () => {
  const base = { entry: '/srv/worker.js', execArgv: [], env: {}, cwd: '/srv' }

  it('refuses a listening socket handed to a Bun or Deno worker, naming the runtime', () => {
    expect(() => refuseListenFd('Deno', { ...base, listenFd: 3 })).toThrow(
      'Deno workers bind the port themselves (SO_REUSEPORT); listenFd is not supported'
    )
    expect(() => refuseListenFd('Bun', { ...base, listenFd: 3 })).toThrow(/^Bun workers/)
  })

  it('lets a spawn without one through', () => {
    expect(() => refuseListenFd('Bun', base)).not.toThrow()
  })
})
