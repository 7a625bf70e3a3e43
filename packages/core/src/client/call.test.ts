// One call over a real socket: a node:http server on 127.0.0.1 answers as a bento service would.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { startCall, type Target, TIMEOUT_HEADER } from './call.ts'
import { CallError } from './errors.ts'
import { urlTarget } from './registry.ts'

let server: Server
let target: Target
const seen: { headers: IncomingMessage['headers']; url: string; body: string }[] = []
const closed: string[] = []

function answer(req: IncomingMessage, res: ServerResponse, body: string) {
  seen.push({ headers: req.headers, url: req.url!, body })
  const path = req.url!.split('?')[0]
  if (path === '/echo') {
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ got: body === '' ? null : JSON.parse(body), query: req.url }))
  } else if (path === '/fail') {
    res.statusCode = 422
    res.setHeader('content-type', 'application/json')
    res.end(JSON.stringify({ error: 'bad thing', requestId: 'r1' }))
  } else if (path === '/stream') {
    res.setHeader('content-type', 'text/event-stream')
    res.write('data: "1"\n\n')
    res.write('data: {"n":2}\n\n')
    // Endless: the caller stops reading; the server sees the connection close.
    const timer = setInterval(() => res.write('data: 0\n\n'), 20)
    res.on('close', () => {
      clearInterval(timer)
      closed.push('stream')
    })
  } else if (path === '/broken') {
    res.setHeader('content-type', 'text/event-stream')
    res.end('data: 1\n\nevent: error\ndata: {"error":"model crashed"}\n\n')
  } else if (path === '/slow') {
    res.on('close', () => closed.push('slow'))
  }
}

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = ''
    req.setEncoding('utf8')
    req.on('data', (chunk: string) => {
      body += chunk
    })
    req.on('end', () => answer(req, res, body))
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  target = urlTarget('svc', `http://127.0.0.1:${(server.address() as AddressInfo).port}`)
})
afterAll(() => {
  server.closeAllConnections()
  server.close()
})

const route = (name: string, method = 'POST') => ({ name, route: `/${name}`, method })

describe('startCall', () => {
  it('sends JSON with the request id, trace and remaining time, and awaits the answer', async () => {
    const answer = await startCall(
      target,
      route('echo'),
      { text: 'hi' },
      { requestId: 'req-1', traceparent: '00-a-b-01', remainingMs: 1234.7 },
      undefined
    )
    expect(answer).toEqual({ got: { text: 'hi' }, query: '/echo' })
    const { headers } = seen.at(-1)!
    expect(headers['x-request-id']).toBe('req-1')
    expect(headers.traceparent).toBe('00-a-b-01')
    expect(headers[TIMEOUT_HEADER]).toBe('1234')
    expect(headers['content-type']).toBe('application/json')
  })

  it('puts a GET API input in the query string', async () => {
    const answer = await startCall(
      target,
      route('echo', 'GET'),
      { q: 'a b', tag: ['x', 'y'] },
      {},
      {}
    )
    expect(answer).toEqual({ got: null, query: '/echo?q=a+b&tag=x&tag=y' })
  })

  it("fails with the callee's status and body", async () => {
    const error = await startCall(target, route('fail'), {}, {}, {}).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toBeInstanceOf(CallError)
    expect(error).toMatchObject({
      service: 'svc',
      api: 'fail',
      status: 422,
      body: { error: 'bad thing', requestId: 'r1' },
      message: 'svc.fail answered 422: bad thing',
    })
  })

  it('streams chunks and cancels the callee when the caller stops reading', async () => {
    const chunks: unknown[] = []
    for await (const chunk of startCall(target, route('stream'), {}, {}, {})) {
      chunks.push(chunk)
      if (chunks.length === 3) break
    }
    expect(chunks).toEqual(['1', { n: 2 }, 0])
    await expect.poll(() => closed.includes('stream')).toBe(true)
  })

  it('turns an error event mid-stream into a CallError', async () => {
    const chunks: unknown[] = []
    const iterate = async () => {
      for await (const chunk of startCall(target, route('broken'), {}, {}, {})) chunks.push(chunk)
    }
    await expect(iterate()).rejects.toMatchObject({
      name: 'CallError',
      status: 502,
      message: 'svc.broken failed mid-stream: model crashed',
    })
    expect(chunks).toEqual([1])
  })

  it('gives up with a 504 when its time is up, and closes the connection', async () => {
    const error = await startCall(target, route('slow'), {}, { remainingMs: 150 }, {}).then(
      () => undefined,
      (e: unknown) => e
    )
    expect(error).toMatchObject({ name: 'CallError', status: 504, service: 'svc', api: 'slow' })
    await expect.poll(() => closed.filter((c) => c === 'slow').length).toBe(1)
  })

  it("fails with the caller's own reason when the caller aborts", async () => {
    const caller = new AbortController()
    const pending = startCall(target, route('slow'), {}, { signal: caller.signal }, {})
    setTimeout(() => caller.abort(new DOMException('client left', 'AbortError')), 50)
    await expect(pending).rejects.toMatchObject({ name: 'AbortError', message: 'client left' })
    await expect.poll(() => closed.filter((c) => c === 'slow').length).toBe(2)
  })

  it('fails with a 503 naming the callee when nothing answers', async () => {
    const nobody = urlTarget('gone', 'http://127.0.0.1:1')
    await expect(startCall(nobody, route('echo'), {}, {}, {})).rejects.toMatchObject({
      name: 'CallError',
      status: 503,
      message: expect.stringMatching(/^gone\.echo could not be reached: /),
    })
  })

  it('reports each outcome once', async () => {
    const outcomes: unknown[] = []
    const onDone = (outcome: unknown) => outcomes.push(outcome)
    await startCall(target, route('echo'), {}, { onDone }, {})
    await startCall(target, route('fail'), {}, { onDone }, {}).catch(() => {})
    await startCall(target, route('slow'), {}, { onDone, remainingMs: 50 }, {}).catch(() => {})
    expect(outcomes).toEqual([200, 422, 'timeout'])
  })
})
