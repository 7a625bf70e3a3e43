import { describe, expect, it } from 'vitest'
import { drainingHandler } from './draining.ts'

describe('drainingHandler', () => {
  it('passes responses through until drain(), then marks them connection: close', async () => {
    const handler = drainingHandler(() => new Response('ok'))
    expect((await handler.fetch(new Request('http://x/'))).headers.get('connection')).toBeNull()
    handler.drain()
    expect((await handler.fetch(new Request('http://x/'))).headers.get('connection')).toBe('close')
  })

  it('copies a response whose headers are immutable', async () => {
    const handler = drainingHandler(async () => Response.redirect('http://x/elsewhere', 302))
    handler.drain()
    const response = await handler.fetch(new Request('http://x/'))
    expect(response.status).toBe(302)
    expect(response.headers.get('location')).toBe('http://x/elsewhere')
    expect(response.headers.get('connection')).toBe('close')
  })

  it('resolves idle() once no handler call is running, errors included', async () => {
    let release!: () => void
    const handler = drainingHandler(
      (request) =>
        new Promise<Response>((resolve, reject) => {
          release = () =>
            request.url.endsWith('fail') ? reject(new Error('x')) : resolve(new Response())
        })
    )
    const pending = handler.fetch(new Request('http://x/fail'))
    let idle = false
    void handler.idle().then(() => {
      idle = true
    })
    await Promise.resolve()
    expect(idle).toBe(false)
    release()
    await expect(pending).rejects.toThrow('x')
    await Promise.resolve()
    expect(idle).toBe(true)
  })
})
