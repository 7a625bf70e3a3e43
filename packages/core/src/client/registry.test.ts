import { createServer, type IncomingMessage, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { BentoConfigError } from '../errors.ts'
import { CallError } from './errors.ts'
import {
  callInProcess,
  parseDependsVar,
  REMOTE_ANSWER_LIMIT,
  setPeers,
  targetFor,
  urlTarget,
} from './registry.ts'

// A call whose API answers at `route` (routes here are the API's name with a slash).
const request = (route: string, method = 'POST') => ({
  api: { name: route.replace(/^\//, ''), route, method },
  input: undefined,
  headers: {},
  signal: new AbortController().signal,
})

describe('parseDependsVar', () => {
  it('reads name=url pairs', () => {
    expect(
      parseDependsVar(' embedder=http://embedder:3000 , ranker=https://r.example/api ')
    ).toEqual(
      new Map([
        ['embedder', 'http://embedder:3000'],
        ['ranker', 'https://r.example/api'],
      ])
    )
    expect(parseDependsVar(undefined).size).toBe(0)
  })

  it.each([
    ['embedder', /not name=url/],
    ['Embedder=http://x', /not name=url/],
    [
      'embedder=embedder:3000',
      /BENTO_DEPENDS embedder must be an http:\/\/ or https:\/\/ base URL/,
    ],
    ['embedder=http://x/?a=1', /without a query/],
  ])('refuses %s, naming the fix', (value, message) => {
    expect(() => parseDependsVar(value)).toThrow(BentoConfigError)
    expect(() => parseDependsVar(value)).toThrow(message)
  })
})

describe('targetFor', () => {
  const env = process.env
  afterEach(() => {
    process.env = env
  })

  it('calls a dependency with no address nowhere, saying how to give it one', async () => {
    const target = targetFor('orphan', undefined)
    await expect(target.send(request('/x'))).rejects.toThrow(
      /no address for the dependency "orphan": serve the graph with bento serve/
    )
  })

  it('uses an in-process app only for the caller that asked', async () => {
    const caller = {}
    const here = new Map([
      ['x', async () => ({ status: 200, type: 'application/json', body: '"here"' })],
    ])
    callInProcess(caller, 'local-only', () => here)
    const answer = await targetFor('local-only', undefined, caller).send(request('/x'))
    expect(await answer.value()).toBe('here')
    await expect(targetFor('local-only', undefined, {}).send(request('/x'))).rejects.toThrow(
      /no address/
    )
  })

  it('prefers a URL over the workers served here, and those over an in-process app', () => {
    const caller = {}
    setPeers('both', ['unix:/nowhere.sock'])
    callInProcess(caller, 'both', () => new Map())
    expect(
      targetFor('both', { url: 'http://elsewhere:3000', headers: undefined }, caller).constructor
        .name
    ).toBe('Object')
    expect(targetFor('both', undefined, caller).constructor.name).toBe('EndpointPool')
  })
})

describe('urlTarget: a dependency served elsewhere', () => {
  let server: Server
  let base: string
  const seen: IncomingMessage['headers'][] = []
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req.headers)
      if (req.url === '/moved') {
        res.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data/' }).end()
      } else if (req.url === '/huge-declared') {
        res.writeHead(200, {
          'content-type': 'application/json',
          'content-length': REMOTE_ANSWER_LIMIT + 1,
        })
        res.write('[')
        // The client gives up on the header alone; the connection is then destroyed.
      } else if (req.url === '/huge-chunked') {
        res.writeHead(200, { 'content-type': 'application/json' })
        const piece = Buffer.alloc(2 ** 20, 0x20)
        let sent = 0
        const more = () => {
          while (sent <= REMOTE_ANSWER_LIMIT) {
            sent += piece.length
            if (!res.write(piece)) return res.once('drain', more)
          }
          res.end()
        }
        res.on('close', () => res.destroy())
        more()
      } else res.writeHead(200, { 'content-type': 'application/json' }).end('{"ok":true}')
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  })
  afterAll(() => {
    server.closeAllConnections()
    server.close()
  })
  const send = (target: ReturnType<typeof urlTarget>, path: string) =>
    target.send({ ...request(path, 'GET'), signal: AbortSignal.timeout(10_000) })

  it("sends the dependency's headers over $BENTO_DEPENDS_TOKEN, and never the graph's token", async () => {
    const env = { ...process.env }
    process.env.BENTO_DEPENDS_TOKEN = 'from-the-environment'
    process.env.BENTO_INTERNAL_TOKEN = 'the-graph-token'
    try {
      await (await send(urlTarget('svc', base), '/')).value()
      expect(seen.at(-1)?.authorization).toBe('Bearer from-the-environment')
      expect(seen.at(-1)?.['bento-token']).toBeUndefined()
      await (await send(urlTarget('svc', base, { authorization: 'Bearer own' }), '/')).value()
      expect(seen.at(-1)?.authorization).toBe('Bearer own')
    } finally {
      process.env = env
    }
  })

  it('fails a redirect with a 502 instead of following it', async () => {
    const before = seen.length
    const error = await send(urlTarget('svc', base), '/moved').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(CallError)
    expect((error as CallError).status).toBe(502)
    expect((error as CallError).message).toMatch(
      /svc answered 302, redirecting to http:\/\/169\.254\.169\.254\/latest\/meta-data\/: calls to a dependency don't follow redirects/
    )
    expect(seen.length).toBe(before + 1)
  })

  it('fails an answer larger than the limit with a 502, declared or not', async () => {
    const declared = await (await send(urlTarget('svc', base), '/huge-declared'))
      .value()
      .catch((e: unknown) => e)
    expect((declared as CallError).status).toBe(502)
    expect((declared as CallError).message).toMatch(/svc answered more than 67108864 bytes/)
    const answer = await send(urlTarget('svc', base), '/huge-chunked')
    const read = await answer.value().catch((e: unknown) => e)
    expect((read as CallError).status).toBe(502)
    expect((read as CallError).message).toMatch(/svc answered more than 67108864 bytes/)
  })
})
