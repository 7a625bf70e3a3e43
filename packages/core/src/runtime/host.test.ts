import { describe, expect, it } from 'vitest'
import { hostRequired } from './host.ts'

describe('hostRequired', () => {
  const fetch = hostRequired(() => new Response('served'))

  it('passes a request with a Host header, an empty one included, to the handler', async () => {
    for (const host of ['example.com', '127.0.0.1:3000', '']) {
      const response = await fetch(new Request('http://x/a', { headers: { host } }))
      expect(response.status, host).toBe(200)
      expect(await response.text()).toBe('served')
    }
  })

  it("hands the runtime's own arguments on to the handler", async () => {
    const seen: unknown[] = []
    const wrapped = hostRequired(((_: Request, ...platform: unknown[]) => {
      seen.push(...platform)
      return new Response('served')
    }) as (request: Request) => Response)
    const server = { name: 'server' }
    await (wrapped as (request: Request, server: unknown) => Promise<Response>)(
      new Request('http://x/a', { headers: { host: 'x' } }),
      server
    )
    expect(seen).toEqual([server])
  })

  it('answers 400 in JSON, closing the connection, to a request without one', async () => {
    const response = await fetch(new Request('http://x/a'))
    expect(response.status).toBe(400)
    expect(response.headers.get('connection')).toBe('close')
    expect(await response.json()).toEqual({
      error: 'the request has no Host header: send one (RFC 9112 §3.2 requires it)',
    })
  })

  it('in development answers 403 to a host name that is not this machine, naming it', async () => {
    const dev = hostRequired(() => new Response('served'), { bound: '0.0.0.0' })
    const allowed = [
      'localhost:3000',
      'LOCALHOST',
      'app.localhost:3000',
      '127.0.0.1:3000',
      '192.168.1.20',
      '[::1]:3000',
      '0.0.0.0:3000',
    ]
    for (const host of allowed) {
      const response = await dev(new Request('http://x/a', { headers: { host } }))
      expect(response.status, host).toBe(200)
    }
    // DNS rebinding: the attacker's name, resolved to 127.0.0.1.
    for (const host of ['rebind.attacker.example:3000', 'localhost.attacker.example', 'x']) {
      const response = await dev(new Request('http://x/a', { headers: { host } }))
      expect(response.status, host).toBe(403)
      expect((await response.json()).error).toMatch(/for this machine only .*DNS rebinding/)
    }
    const named = hostRequired(() => new Response('served'), { bound: 'devbox.lan' })
    const own = await named(new Request('http://x/a', { headers: { host: 'DevBox.lan:3000' } }))
    expect(own.status).toBe(200)
    // Outside development any name is served.
    const served = await fetch(new Request('http://x/a', { headers: { host: 'example.com' } }))
    expect(served.status).toBe(200)
  })
})
