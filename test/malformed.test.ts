// Bad input never gets a 5xx, on Node, Bun and Deno: 40 kinds of malformed request over raw
// sockets (truncated and aborted bodies, Content-Length mismatches, invalid UTF-8, deep nesting,
// duplicate and oversized headers, oversized query strings, broken chunking, ...) each get exactly
// the answer RFC 9110/9112 asks for, the same on every runtime except where the runtime's own
// HTTP parser answers (or closes the connection) before any JavaScript runs; each such exception
// is listed with its case and in docs/architecture.md ("Malformed requests"). None restarts a
// worker. /metrics counts a request whose client left as 499, never 500, and a good request is
// still answered after.
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/malformed/', import.meta.url))

type Runtime = (typeof RUNTIMES)[number]

interface Case {
  name: string
  /** What to write, and how to end: `end` half-closes after writing, `reset` sends an RST. */
  send: Buffer | string
  after?: 'end' | 'reset'
  /**
   * The statuses of every answer the connection receives, in order (`[]`: none, the connection
   * just closes); per runtime where a runtime's own parser decides before bento sees the request.
   */
  expect: number[] | Record<Runtime, number[]>
}

const json = (path: string, body: string | Buffer, extra = '') => {
  const bytes = Buffer.isBuffer(body) ? body : Buffer.from(body)
  return Buffer.concat([
    Buffer.from(
      `POST ${path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n${extra}\r\n`
    ),
    bytes,
  ])
}
const head = (lines: string) => `${lines}\r\nConnection: close\r\n\r\n`
const deep = (n: number) => '['.repeat(n) + ']'.repeat(n)

const CASES: Case[] = [
  {
    name: 'a body cut short, then a half-close',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{"name":"A'),
    after: 'end',
    expect: { node: [400], bun: [], deno: [400] },
  },
  {
    name: 'a body cut short, then a reset',
    send: 'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"name":"A',
    after: 'reset',
    expect: [],
  },
  {
    name: 'a body longer than its Content-Length',
    send: 'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 5\r\n\r\n{"name":"Ada"}',
    after: 'end',
    expect: { node: [400, 400], bun: [400, 400], deno: [400] },
  },
  {
    name: 'JSON that is not UTF-8',
    send: json(
      '/greet',
      Buffer.from([0x7b, 0x22, 0x6e, 0x61, 0x6d, 0x65, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d])
    ),
    expect: [400],
  },
  { name: 'JSON nested 100,000 deep (arrays)', send: json('/echo', deep(100_000)), expect: [400] },
  {
    name: 'JSON nested 30,000 deep (objects)',
    send: json('/echo', `${'{"a":'.repeat(30_000)}1${'}'.repeat(30_000)}`),
    expect: [400],
  },
  { name: 'JSON nested 129 deep', send: json('/echo', deep(129)), expect: [400] },
  { name: 'malformed JSON', send: json('/greet', '{"name":]'), expect: [400] },
  { name: 'JSON of the wrong shape', send: json('/greet', '"just a string"'), expect: [400] },
  { name: 'JSON with a huge number', send: json('/greet', '{"name":1e999}'), expect: [400] },
  {
    name: 'JSON sent as text/plain',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 2'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{}'),
    expect: [415],
  },
  {
    name: 'a body over the size limit',
    send: head(
      'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 99999999'
    ),
    expect: [413],
  },
  {
    name: 'two different Content-Lengths',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 3'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{"name":"Ada"}'),
    expect: [400],
  },
  {
    name: 'two Content-Types',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Type: text/plain\r\nContent-Length: 14'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{"name":"Ada"}'),
    expect: [415],
  },
  {
    name: 'two Hosts',
    send: head('GET /search?q=a HTTP/1.1\r\nHost: x\r\nHost: y'),
    expect: [400],
  },
  // Bun and Deno pass `Content-Length: 2, 2` on, where no body limit could read a size in it.
  {
    name: 'two equal Content-Lengths',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 14\r\nContent-Length: 14'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{"name":"Ada"}'),
    expect: [400],
  },
  // Deno passes a request without Host on; the runtimes can't tell bento the version, so an
  // HTTP/1.0 request needs one too.
  { name: 'no Host on HTTP/1.1', send: head('GET /search?q=a HTTP/1.1'), expect: [400] },
  { name: 'no Host on HTTP/1.0', send: head('GET /search?q=a HTTP/1.0'), expect: [400] },
  {
    name: 'Transfer-Encoding and Content-Length',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\nContent-Length: 14'
    ).replace(/\r\n\r\n$/, '\r\n\r\ne\r\n{"name":"Ada"}\r\n0\r\n\r\n'),
    expect: [400],
  },
  {
    name: 'Transfer-Encoding: chunked, identity',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked, identity'
    ).replace(/\r\n\r\n$/, '\r\n\r\ne\r\n{"name":"Ada"}\r\n0\r\n\r\n'),
    expect: [400],
  },
  {
    name: 'a chunk size that is not hex',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked'
    ).replace(/\r\n\r\n$/, '\r\n\r\nzz\r\n{"name":"Ada"}\r\n0\r\n\r\n'),
    expect: { node: [400], bun: [400], deno: [] },
  },
  {
    name: 'a chunked upload, then a reset',
    send: 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\n',
    after: 'reset',
    expect: [],
  },
  {
    name: 'a chunked upload, then a half-close',
    send: 'POST /echo HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n5\r\n{"nam\r\n',
    after: 'end',
    expect: { node: [400], bun: [], deno: [400] },
  },
  {
    name: 'a 100 KB header',
    send: head(`GET /search?q=a HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(100_000)}`),
    expect: { node: [431], bun: [431], deno: [400] },
  },
  {
    name: 'a 100 KB query string',
    send: head(`GET /search?q=${'a'.repeat(100_000)} HTTP/1.1\r\nHost: x`),
    expect: { node: [431], bun: [431], deno: [400] },
  },
  {
    name: '3,000 headers',
    send: head(
      `GET /search?q=a HTTP/1.1\r\nHost: x\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}`
    ),
    expect: { node: [431], bun: [431], deno: [400] },
  },
  {
    name: 'a control character in a header',
    send: head('GET /search?q=a HTTP/1.1\r\nHost: x\r\nX-Bad: a\x01b'),
    expect: [400],
  },
  {
    name: 'a header without a colon',
    send: head('GET /search?q=a HTTP/1.1\r\nHost: x\r\nNoColonHere'),
    expect: [400],
  },
  {
    name: 'a folded header line',
    send: head('GET /search?q=a HTTP/1.1\r\nHost: x\r\nX-Fold: a\r\n b'),
    expect: [400],
  },
  {
    name: 'a request line that is not HTTP',
    send: 'HELLO THERE\r\n\r\n',
    after: 'end',
    expect: [400],
  },
  {
    name: 'an unknown method',
    send: head('FROB /greet HTTP/1.1\r\nHost: x'),
    expect: { node: [400], bun: [], deno: [405] },
  },
  {
    name: 'a 1 KB method',
    send: head(`${'X'.repeat(1024)} /greet HTTP/1.1\r\nHost: x`),
    expect: { node: [400], bun: [], deno: [405] },
  },
  {
    name: 'a Content-Length that is not a number',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: abc'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{}'),
    expect: [400],
  },
  {
    name: 'a negative Content-Length',
    send: head(
      'POST /greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: -5'
    ).replace(/\r\n\r\n$/, '\r\n\r\n{}'),
    expect: [400],
  },
  {
    name: 'a query that is not valid percent-encoding',
    send: head('GET /search?q=%zz%ff HTTP/1.1\r\nHost: x'),
    expect: [400],
  },
  {
    name: 'a query that decodes to invalid UTF-8',
    send: head('GET /search?q=%ff%fe HTTP/1.1\r\nHost: x'),
    expect: [400],
  },
  {
    name: 'a path with a NUL byte',
    send: head('GET /sea%00rch?q=a HTTP/1.1\r\nHost: x'),
    expect: [404],
  },
  {
    name: 'an absolute-form target',
    send: head('GET http://elsewhere.invalid/search?q=a HTTP/1.1\r\nHost: x'),
    expect: [200],
  },
  {
    name: 'multipart without a boundary',
    send: head(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data\r\nContent-Length: 10'
    ).replace(/\r\n\r\n$/, '\r\n\r\nnotmultip!'),
    expect: [400],
  },
  // Deno's form parser takes a form without its closing boundary as empty: bento checks for it.
  {
    name: 'multipart cut short',
    send: head(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=b\r\nContent-Length: 40'
    ).replace(/\r\n\r\n$/, '\r\n\r\n--b\r\nContent-Disposition: form-data; name="a"\r\n'),
    expect: [400],
  },
  {
    name: 'a form that is not UTF-8',
    send: head(
      'POST /upload HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 7'
    ).replace(/\r\n\r\n$/, '\r\n\r\n%zz=%ff'),
    expect: [400],
  },
  {
    name: 'an upgrade to WebSocket on an API',
    send: head(
      'GET /search?q=a HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: x\r\nSec-WebSocket-Version: 13'
    ),
    expect: [200],
  },
  {
    name: 'bare LF line endings',
    send: 'GET /search?q=a HTTP/1.1\nHost: x\nConnection: close\n\n',
    after: 'end',
    expect: { node: [400], bun: [505], deno: [200] },
  },
]

interface Outcome {
  statuses: number[]
  error?: string
}

function answeredAndClosing(data: string): boolean {
  const end = data.lastIndexOf('\r\n\r\n')
  if (end === -1) return false
  const start = data.lastIndexOf('HTTP/1.', end)
  const headers = data.slice(start, end).toLowerCase()
  const length = /\r\ncontent-length: (\d+)/.exec(headers)?.[1]
  return (
    /\r\nconnection: close/.test(headers) &&
    length !== undefined &&
    data.length - (end + 4) >= Number(length)
  )
}

/** Sends one case on a fresh connection; resolves with every status line the server wrote. */
function send(port: number, c: Case): Promise<Outcome> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1')
    let data = ''
    let settled = false
    const finish = (error?: string) => {
      if (settled) return
      settled = true
      clearTimeout(timer)
      socket.destroy()
      const statuses = [...data.matchAll(/HTTP\/1\.[01] (\d{3})/g)].map((m) => Number(m[1]))
      resolve(error === undefined ? { statuses } : { statuses, error })
    }
    // No request may hang: every case ends within 5 s, answered or not.
    const timer = setTimeout(() => finish('no end within 5 s'), 5_000)
    socket.setEncoding('latin1')
    socket.on('data', (chunk: string) => {
      data += chunk
      // As an HTTP client does: a complete answer that says `connection: close` ends the exchange
      // (Deno leaves the connection open after refusing a body it did not read).
      if (answeredAndClosing(data)) finish()
    })
    socket.on('error', () => finish())
    socket.on('close', () => finish())
    socket.on('connect', () => {
      socket.write(c.send)
      if (c.after === 'reset') setTimeout(() => socket.resetAndDestroy(), 20)
      else if (c.after === 'end') socket.end()
    })
  })
}

// Where a runtime's own HTTP parser answers (or drops the connection) before bento sees anything,
// the cases say so per runtime. What each runtime does, as docs/architecture.md lists it:
// - Bun closes the connection without an answer when the client half-closes in the middle of a
//   body, and on a method it does not know (or one of 1 KB); it answers a bare-LF request with 505.
// - Deno answers 400 (not 431) to headers or a request line over its limits, closes the
//   connection on a chunk size that is not hex, routes an unknown method to bento (405), and
//   accepts bare LF line endings, as RFC 9112 §2.2 allows.
// - Node answers 431 to oversized headers and 400 to an unknown method or bare LF.
// - A body longer than its Content-Length leaves the rest as a second request, which Bun and Node
//   answer too (400, 400): on Node bento answers the first (its 5 bytes are not JSON) before the
//   parser reaches the rest, as it reads a body that came with its headers at once. Deno closes
//   after the first answer.
function expected(c: Case, runtime: Runtime): number[] {
  return Array.isArray(c.expect) ? c.expect : c.expect[runtime]
}

describe.each(RUNTIMES)('malformed requests on %s', (runtime) => {
  it('each get their exact answer, never restart a worker, and leave the service serving', async () => {
    const bento = startBento(
      runtime,
      ['serve', 'service.ts', '--port', '0', '--host', '127.0.0.1', '--workers', '2'],
      { cwd }
    )
    const url = await bento.url()
    const port = Number(new URL(url).port)
    // All at once, each on its own connection, as a scanner would send them.
    const outcomes = await Promise.all(CASES.map((c) => send(port, c)))
    const got = Object.fromEntries(
      CASES.map((c, i) => [c.name, outcomes[i]!.error ?? outcomes[i]!.statuses])
    )
    const want = Object.fromEntries(CASES.map((c) => [c.name, expected(c, runtime)]))
    expect(got).toEqual(want)

    const good = await postJson(`${url}/greet`, { name: 'Ada' })
    expect(good.status).toBe(200)
    const metrics = await (await fetch(`${url}/metrics`)).text()
    const statuses = [...metrics.matchAll(/^bento_requests_total\{[^}]*status="(\d+)"\} (\d+)$/gm)]
    expect(statuses.filter(([, status]) => status!.startsWith('5'))).toEqual([])
    // Clients that left mid-body are counted as having closed the request, where the runtime
    // tells: Deno's request.signal does not abort when a client leaves in the middle of its body
    // (the read fails with "unexpected EOF"), so there they count as 400 (docs/architecture.md).
    const closed = statuses.filter(([, status]) => status === '499')
    if (runtime === 'deno') expect(closed).toEqual([])
    else expect(closed.length).toBeGreaterThan(0)
    expect(metrics).not.toMatch(/^bento_worker_restarts_total\{[^}]*\} [1-9]/m)
    expect(bento.output).not.toMatch(/restarting in/)
    expect((await bento.stop()).code).toBe(0)
  })
})
