// The app served by @hono/node-server over a real socket: a client that hangs up must abort the
// handler's signal, and a streaming handler's iterator must be closed (its `finally` runs).
import { once } from 'node:events'
import http from 'node:http'
import type { AddressInfo } from 'node:net'
import { type ApiContext, api, service } from '@bento/core'
import { type ServerType, serve } from '@hono/node-server'
import { afterEach, expect, it } from 'vitest'
import { z } from 'zod'
import { toHono } from '../src/index.ts'
import { unique, until } from './harness.ts'

const servers: ServerType[] = []
afterEach(async () => {
  for (const server of servers.splice(0)) {
    ;(server as http.Server).closeAllConnections?.()
    await new Promise((resolve) => server.close(resolve))
  }
})

async function listen(fetch: (request: Request) => Response | Promise<Response>): Promise<number> {
  const server = serve({ fetch, hostname: '127.0.0.1', port: 0 })
  servers.push(server)
  if (!server.listening) await once(server, 'listening')
  return (server.address() as AddressInfo).port
}

function post(port: number, path: string): http.ClientRequest {
  const request = http.request({ host: '127.0.0.1', port, path, method: 'POST', agent: false })
  request.end()
  return request
}

function trackedService() {
  const seen = { signal: undefined as AbortSignal | undefined, finallyRan: false, chunks: 0 }
  const s = service({
    name: unique('socket'),
    apis: {
      tokens: api({
        handler: async function* (_input: unknown, ctx: ApiContext) {
          seen.signal = ctx.signal
          try {
            for (;;) {
              seen.chunks++
              yield { token: seen.chunks }
              await new Promise((resolve) => setTimeout(resolve, 10))
            }
          } finally {
            seen.finallyRan = true
          }
        },
      }),
      think: api({
        handler: (_input: unknown, ctx: ApiContext) => {
          seen.signal = ctx.signal
          return new Promise<string>((resolve) =>
            ctx.signal.addEventListener('abort', () => resolve('stopped'))
          )
        },
      }),
    },
  })
  return { s, seen }
}

it('answers over HTTP on 127.0.0.1', async () => {
  const { s } = trackedService()
  const port = await listen(toHono(s).fetch)
  const response = await fetch(`http://127.0.0.1:${port}/livez`)
  expect(response.status).toBe(200)
  expect(await response.json()).toMatchObject({ status: 'alive' })
})

it('a client that disconnects mid-stream aborts the signal and runs the iterator finally', async () => {
  const { s, seen } = trackedService()
  const port = await listen(toHono(s).fetch)
  const request = post(port, '/tokens')
  const [response] = (await once(request, 'response')) as [http.IncomingMessage]
  expect(response.statusCode).toBe(200)
  expect(response.headers['content-type']).toMatch(/text\/event-stream/)
  const [chunk] = (await once(response, 'data')) as [Buffer]
  expect(chunk.toString()).toContain('data: {"token":1}')
  request.destroy()
  await until(() => seen.finallyRan, 5_000, "the iterator's finally")
  expect(seen.signal?.aborted).toBe(true)
  const produced = seen.chunks
  await new Promise((resolve) => setTimeout(resolve, 50))
  expect(seen.chunks).toBe(produced)
})

it('a client that disconnects before the answer aborts the signal', async () => {
  const { s, seen } = trackedService()
  const port = await listen(toHono(s).fetch)
  const request = post(port, '/think')
  request.on('error', () => {})
  await until(() => seen.signal !== undefined, 5_000, 'the handler to start')
  expect(seen.signal!.aborted).toBe(false)
  request.destroy()
  await until(() => seen.signal!.aborted, 5_000, 'the signal to abort')
})

// Raw requests on one keep-alive connection; resolves with each answer's head and body.
async function exchange(port: number, writes: (string | Buffer)[][]): Promise<string[]> {
  const { connect } = await import('node:net')
  const socket = connect(port, '127.0.0.1')
  await once(socket, 'connect')
  let received = ''
  socket.on('data', (data: Buffer) => {
    received += data.toString('latin1')
  })
  const answers: string[] = []
  for (const pieces of writes) {
    const before = answers.length
    for (const [i, piece] of pieces.entries()) {
      if (i > 0) await new Promise((resolve) => setTimeout(resolve, 30))
      socket.write(piece)
    }
    await until(
      () => {
        const parts = received.split(/(?=HTTP\/1\.1 )/).filter((p) => /\r\n\r\n[\s\S]*\}$/.test(p))
        if (parts.length > before) answers.splice(0, answers.length, ...parts)
        return answers.length > before
      },
      5_000,
      'an answer'
    )
  }
  socket.destroy()
  return answers
}

it('reads a body that came with its headers at once, and one that trickles in, alike', async () => {
  const s = service({
    name: unique('bodies'),
    apis: {
      echo: api({ input: z.object({ text: z.string() }), handler: ({ text }) => ({ text }) }),
    },
  })
  const port = await listen(toHono(s).fetch)
  const head = (length: number) =>
    `POST /echo HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${length}\r\n\r\n`
  const body = '{"text":"héllo"}'
  const bytes = Buffer.byteLength(body)
  const invalid = Buffer.from([
    0x7b, 0x22, 0x74, 0x65, 0x78, 0x74, 0x22, 0x3a, 0x22, 0xff, 0x22, 0x7d,
  ])
  const answers = await exchange(port, [
    [head(bytes) + body], // one packet: the headers and the whole body
    [head(bytes), body.slice(0, 5), body.slice(5)], // the body after the headers, in two parts
    [Buffer.concat([Buffer.from(head(invalid.length)), invalid])], // not UTF-8, in one packet
    [head(bytes) + body], // the connection still carries requests
  ])
  expect(answers).toHaveLength(4)
  for (const i of [0, 1, 3]) {
    expect(answers[i]).toMatch(/^HTTP\/1\.1 200 /)
    expect(answers[i]).toMatch(/\r\nx-request-id: \S+\r\n/i)
    expect(Buffer.from(answers[i]!.split('\r\n\r\n')[1]!, 'latin1').toString()).toBe(body)
  }
  expect(answers[2]).toMatch(/^HTTP\/1\.1 400 /)
  expect(answers[2]).toContain('not valid UTF-8')
})
