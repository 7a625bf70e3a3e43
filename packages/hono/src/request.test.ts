import type { Context } from 'hono'
import { HonoRequest } from 'hono/request'
import { describe, expect, it } from 'vitest'
import { ResponseError } from './errors.ts'
import {
  bodyKind,
  clientClosed,
  inputError,
  parseJson,
  readInput,
  refusedRequest,
  urlEncoded,
} from './request.ts'

describe('bodyKind', () => {
  it.each([
    ['application/json', 'json'],
    ['Application/JSON; charset=utf-8', 'json'],
    ['application/problem+json', 'json'],
    ['multipart/form-data; boundary=x', 'form'],
    ['application/x-www-form-urlencoded', 'form'],
    ['text/plain', 'unsupported'],
    ['application/jsonp', 'unsupported'],
    ['', 'unsupported'],
  ])('%s is %s', (type, kind) => {
    expect(bodyKind(type)).toBe(kind)
  })
})

const bytes = (text: string) => new TextEncoder().encode(text)

/** The 400 that `fn` throws, with its message and issues. */
function refusal(fn: () => unknown): { status: number; message: string; issues: unknown } {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(ResponseError)
    const e = error as ResponseError
    return { status: e.status, message: e.message, issues: e.details?.issues }
  }
  throw new Error('expected a refusal')
}

describe('parseJson', () => {
  it('parses UTF-8 JSON, a BOM included, and an empty body as undefined', () => {
    expect(parseJson(bytes('{"name":"Zoë"}'), 128)).toEqual({ name: 'Zoë' })
    expect(parseJson(new Uint8Array([0xef, 0xbb, 0xbf, ...bytes('[1]')]), 128)).toEqual([1])
    expect(parseJson(new Uint8Array(), 128)).toBeUndefined()
  })

  it('refuses bytes that are not UTF-8 instead of replacing them', () => {
    const body = new Uint8Array([...bytes('{"name":"'), 0xff, 0xfe, ...bytes('"}')])
    expect(refusal(() => parseJson(body, 128))).toMatchObject({
      status: 400,
      message: 'invalid JSON: not UTF-8',
    })
  })

  it('refuses nesting deeper than the limit, and accepts it at the limit', () => {
    const nest = (n: number) => '['.repeat(n) + ']'.repeat(n)
    expect(parseJson(bytes(nest(3)), 3)).toEqual([[[]]])
    expect(JSON.stringify(parseJson(bytes(nest(128)), 128))).toBe(nest(128))
    expect(refusal(() => parseJson(bytes(nest(129)), 128))).toMatchObject({
      status: 400,
      message: 'invalid JSON: nested too deeply',
    })
    expect(refusal(() => parseJson(bytes(nest(200_000)), 128)).status).toBe(400)
  })

  it('ignores brackets inside strings, escaped quotes included, when counting depth', () => {
    const text = JSON.stringify({ s: `"${'['.repeat(500)}\\"` })
    expect(parseJson(bytes(text), 4)).toEqual(JSON.parse(text))
  })

  it('reports malformed JSON as a 400 with the parser message', () => {
    expect(refusal(() => parseJson(bytes('{"a":]'), 128))).toMatchObject({
      status: 400,
      message: 'invalid JSON',
    })
  })
})

describe('inputError', () => {
  const request = (aborted: boolean) => {
    const controller = new AbortController()
    if (aborted) controller.abort()
    return new Request('http://x/', { signal: controller.signal })
  }

  it('turns a body the runtime could not read into a 400 naming the problem', () => {
    const error = inputError(
      new TypeError('connection closed before message completed'),
      request(false)
    )
    expect(error.status).toBe(400)
    expect(error.message).toBe(
      'the request body could not be read: connection closed before message completed'
    )
  })

  it('calls it a 499 when the client has gone', () => {
    expect(inputError(new TypeError('aborted'), request(true)).status).toBe(499)
    expect(inputError(new SyntaxError('Unexpected end'), request(true)).status).toBe(499)
  })

  it('keeps the adapter own refusals, and 413/415 even when the client has gone', () => {
    const tooLarge = new ResponseError(413, 'too large')
    expect(inputError(tooLarge, request(true))).toBe(tooLarge)
    const invalid = new ResponseError(400, 'invalid JSON')
    expect(inputError(invalid, request(false))).toBe(invalid)
    expect(inputError(new SyntaxError('bad'), request(false)).message).toBe('invalid JSON')
  })

  it('clientClosed is a 499', () => {
    expect(clientClosed().status).toBe(499)
  })
})

describe('urlEncoded', () => {
  it('decodes fields, + as a space, repeated names as arrays, and a bare name as empty', () => {
    expect(urlEncoded('q=ramen+bar&tag=a&tag=b&tag=c&flag&z=%C3%AB', 'query string')).toEqual({
      q: 'ramen bar',
      tag: ['a', 'b', 'c'],
      flag: '',
      z: 'ë',
    })
    expect(urlEncoded('', 'query string')).toEqual({})
    expect(Object.getPrototypeOf(urlEncoded('__proto__=x', 'form data'))).toBe(Object.prototype)
  })

  it('refuses an escape that is malformed or decodes to bytes that are not UTF-8', () => {
    for (const text of ['q=%zz', 'q=%ff%fe', '%ff=1', 'q=%e2%82']) {
      expect(refusal(() => urlEncoded(text, 'query string'))).toMatchObject({
        status: 400,
        message: 'invalid query string: not valid percent-encoded UTF-8',
      })
    }
  })
})

describe('refusedRequest', () => {
  it('refuses a request with more than one Host, and lets one through', () => {
    const two = new Headers([
      ['host', 'x'],
      ['host', 'y'],
    ])
    expect(refusedRequest(two)?.status).toBe(400)
    expect(refusedRequest(two)?.message).toMatch(/more than one Host/)
    expect(refusedRequest(new Headers({ host: '127.0.0.1:3000' }))).toBeUndefined()
    expect(refusedRequest(new Headers())).toBeUndefined()
  })

  it('refuses more than one Content-Length, equal or not, and closes the connection', () => {
    for (const lengths of [
      ['2', '2'],
      ['14', '3'],
    ]) {
      const headers = new Headers(lengths.map((n): [string, string] => ['content-length', n]))
      const refused = refusedRequest(headers)
      expect(refused?.status, lengths.join()).toBe(400)
      expect(refused?.message).toBe(
        'the request has more than one Content-Length header; send exactly one'
      )
      expect(refused?.headers).toEqual({ connection: 'close' })
    }
    expect(refusedRequest(new Headers({ 'content-length': '2' }))).toBeUndefined()
  })

  it('refuses Content-Length beside Transfer-Encoding', () => {
    const refused = refusedRequest(
      new Headers({ 'content-length': '14', 'transfer-encoding': 'chunked' })
    )
    expect(refused?.status).toBe(400)
    expect(refused?.message).toMatch(/both Content-Length and Transfer-Encoding/)
    expect(refusedRequest(new Headers({ 'transfer-encoding': 'chunked' }))).toBeUndefined()
  })
})

describe('readInput', () => {
  const limits = { bodyLimit: 1024, maxDepth: 8, maxFormFields: 10, forms: false }
  // A request whose `body` may not be read: on Node, reading it makes @hono/node-server build a
  // whole web Request, where `arrayBuffer()` reads the socket directly.
  function framed(headers: Record<string, string>, text: string): Context {
    const request = new Request('http://x/echo', { method: 'POST', headers, body: text })
    Object.defineProperty(request, 'body', {
      get() {
        throw new Error('body was read')
      },
    })
    return contextOf(request)
  }
  function contextOf(request: Request): Context {
    return { req: new HonoRequest(request) } as unknown as Context
  }

  it("reads a framed body without touching the request's body stream", async () => {
    const c = framed({ 'content-type': 'application/json', 'content-length': '9' }, '{"a":[1]}')
    expect(await readInput(c, 'POST', limits)).toEqual({ a: [1] })
    const empty = framed({ 'content-type': 'application/json', 'content-length': '0' }, '')
    expect(await readInput(empty, 'POST', limits)).toBeUndefined()
  })

  it('reads a body made in-process, which has no framing headers', async () => {
    const request = new Request('http://x/echo', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"b":2}',
    })
    expect(await readInput(contextOf(request), 'POST', limits)).toEqual({ b: 2 })
    const none = new Request('http://x/echo', { method: 'POST' })
    expect(await readInput(contextOf(none), 'POST', limits)).toBeUndefined()
  })
})
