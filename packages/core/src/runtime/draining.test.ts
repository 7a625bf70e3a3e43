import { describe, expect, it } from 'vitest'
import { drainingHandler, SETTLE_MS, sleep } from './draining.ts'

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

describe('graceFor', () => {
  it('keeps the whole grace after a recent or running request, a moment when idle', async () => {
    let release!: () => void
    const handler = drainingHandler(
      () => new Promise<Response>((resolve) => (release = () => resolve(new Response())))
    )
    expect(handler.graceFor(1000)).toBe(SETTLE_MS)
    expect(handler.graceFor(50)).toBe(50)
    const pending = handler.fetch(new Request('http://x/'))
    expect(handler.graceFor(1000)).toBe(1000)
    release()
    await pending
    // Answered just now: a keep-alive client may be about to send its next request.
    expect(handler.graceFor(1000)).toBe(1000)
    // Nothing asked within the last 200 ms: a grace of 200 ms is not needed.
    await sleep(250)
    expect(handler.graceFor(200)).toBe(SETTLE_MS)
    expect(handler.graceFor(1000)).toBe(1000)
  })
})
