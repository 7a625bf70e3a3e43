// The public client over a real socket: a node:http server on 127.0.0.1 stands in for a service.
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { api } from '../service/apis.ts'
import { service } from '../service/service.ts'
import { client } from './client.ts'

const greeter = service({
  name: 'greeter',
  apis: {
    greet: api({ input: z.object({ name: z.string() }), handler: ({ name }) => ({ hi: name }) }),
    find: api({
      method: 'GET',
      route: '/search/find',
      input: z.object({ q: z.string() }),
      handler: ({ q }) => [q],
    }),
  },
})

let server: Server
let url: string
const requests: {
  method: string
  url: string
  auth: string | undefined
  timeout: string | undefined
}[] = []

beforeAll(async () => {
  server = createServer((req, res) => {
    requests.push({
      method: req.method!,
      url: req.url!,
      auth: req.headers.authorization,
      timeout: req.headers['bento-timeout'] as string | undefined,
    })
    let body = ''
    req.on('data', (chunk) => (body += chunk))
    req.on('end', () => {
      res.setHeader('content-type', 'application/json')
      if (req.url === '/greet') res.end(JSON.stringify({ hi: JSON.parse(body).name }))
      else if (req.url?.startsWith('/search/find')) res.end(JSON.stringify(['found']))
      else {
        res.statusCode = 404
        res.end(JSON.stringify({ error: `no route ${req.method} ${req.url}` }))
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
})
afterAll(() => server.close())

describe('client', () => {
  it('calls each API at its default route from the type alone', async () => {
    const greeterClient = client<typeof greeter>(url, {
      headers: { authorization: 'Bearer t' },
      timeout: 5000,
    })
    const answer = await greeterClient.greet({ name: 'Ada' })
    expectTypeOf(answer).toEqualTypeOf<{ hi: string }>()
    expect(answer).toEqual({ hi: 'Ada' })
    expect(requests.at(-1)).toMatchObject({ method: 'POST', url: '/greet', auth: 'Bearer t' })
    expect(Number(requests.at(-1)!.timeout)).toBeLessThanOrEqual(5000)
    // Without the service, a custom route is not known: the call goes to /find and says so.
    await expect(greeterClient.find({ q: 'x' })).rejects.toMatchObject({ status: 404 })
  })

  it("uses the service's own routes and methods when given it", async () => {
    const greeterClient = client(greeter, url)
    expect(await greeterClient.find({ q: 'bento box' })).toEqual(['found'])
    expect(requests.at(-1)).toMatchObject({ method: 'GET', url: '/search/find?q=bento+box' })
    expect(() => (greeterClient as unknown as Record<string, unknown>).missing).toThrow(
      /the service "greeter" has no API "missing"; it has greet, find/
    )
  })

  it('can be awaited itself without sending anything', async () => {
    const before = requests.length
    const greeterClient = client<typeof greeter>(url)
    expect(await greeterClient).toBe(greeterClient)
    expect(requests.length).toBe(before)
  })
})
