import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { type CallRequest, StreamFailed } from '../client/answer.ts'
import type { ChunkStep, LocalApi, LocalCall } from '../client/local.ts'
import { FrameConnection } from './client.ts'
import { STREAM_WINDOW } from './codec.ts'
import { type FrameListener, serveFrames } from './server.ts'

const TOKEN = 'the-graph-token'
const dir = mkdtempSync(join(tmpdir(), 'frames-'))
const path = join(dir, 'callee.sock')
const seen: LocalCall[] = []
let produced = 0
let cancelled: unknown[] = []

// A stream of `count` numbers (Infinity: endless), failing at `failAt`, counting what it made.
function numbers(count: number, failAt = -1): LocalApi {
  return async (call) => {
    let i = 0
    return {
      status: 200,
      stream: {
        mode: 'chunks',
        async next(): Promise<ChunkStep> {
          if (i === failAt) return { done: true, failed: { error: 'broke at 2' } }
          if (i >= count) return { done: true }
          produced++
          return { done: false, value: i++ }
        },
        async cancel(reason) {
          cancelled.push(call.signal.aborted ? 'aborted' : reason)
        },
      },
    }
  }
}

const apis = new Map<string, LocalApi>([
  [
    'echo',
    async (call) => {
      seen.push(call)
      const input = call.body === undefined ? null : JSON.parse(String(call.body))
      return {
        status: 200,
        type: 'application/json',
        body: JSON.stringify({ input, query: call.query ?? null }),
      }
    },
  ],
  [
    'fail',
    async () => ({ status: 422, type: 'application/json', body: '{"error":"no such word"}' }),
  ],
  [
    'hang',
    (call) =>
      new Promise((resolve) => {
        seen.push(call)
        call.signal.addEventListener('abort', () =>
          resolve({ status: 499, type: 'application/json', body: '{}' })
        )
      }),
  ],
  ['count', numbers(3)],
  [
    // 20 chunks of 128 KiB: each fills the socket's buffer, so the callee waits for room.
    'big',
    async () => {
      let i = 0
      return {
        status: 200,
        stream: {
          mode: 'chunks' as const,
          async next(): Promise<ChunkStep> {
            if (i >= 20) return { done: true }
            return { done: false, value: `${i++}:${'x'.repeat(128 * 1024)}` }
          },
          async cancel() {},
        },
      }
    },
  ],
  ['broken', numbers(5, 2)],
  ['endless', numbers(Infinity)],
])

let listener: FrameListener
beforeAll(async () => {
  listener = await serveFrames(path, apis, TOKEN)
})
afterAll(async () => {
  await listener.close(0)
  rmSync(dir, { recursive: true, force: true })
})

const request = (name: string, input?: unknown, more?: Partial<CallRequest>): CallRequest => ({
  api: { name, route: `/${name}`, method: 'POST' },
  input,
  headers: {},
  signal: new AbortController().signal,
  ...more,
})

describe('the framed transport', () => {
  it('multiplexes calls on one connection, each with its input, id, deadline and headers', async () => {
    const connection = new FrameConnection(path, TOKEN)
    const answers = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        connection.send(
          request('echo', { i }, { requestId: `r${i}`, timeoutMs: 900, headers: { 'x-a': 'b' } })
        )
      )
    )
    expect(await Promise.all(answers.map((a) => a.value()))).toEqual(
      Array.from({ length: 50 }, (_, i) => ({ input: { i }, query: null }))
    )
    expect(seen.at(-1)).toMatchObject({ requestId: 'r49', timeoutMs: 900, headers: { 'x-a': 'b' } })
    // A GET's input travels as its query.
    const get = await connection.send({
      ...request('echo', { q: 'tea', tag: ['a', 'b'] }),
      api: { name: 'echo', route: '/echo', method: 'GET' },
    })
    expect(await get.value()).toEqual({ input: null, query: '?q=tea&tag=a&tag=b' })
    connection.close()
  })

  it("keeps a callee's status and body, and says a missing API", async () => {
    const connection = new FrameConnection(path, TOKEN)
    const failed = await connection.send(request('fail'))
    expect(failed.status).toBe(422)
    expect(await failed.value()).toEqual({ error: 'no such word' })
    const missing = await connection.send(request('nope'))
    expect(missing.status).toBe(404)
    expect(await missing.value()).toMatchObject({ error: expect.stringMatching(/no API "nope"/) })
    connection.close()
  })

  it('streams chunks, and a failure mid-stream as its error body', async () => {
    const connection = new FrameConnection(path, TOKEN)
    expect(await (await connection.send(request('count'))).value()).toEqual([0, 1, 2])
    const broken = await connection.send(request('broken'))
    const got: unknown[] = []
    const error = await (async () => {
      for await (const chunk of broken.chunks()) got.push(chunk)
    })().catch((e: unknown) => e)
    expect(got).toEqual([0, 1])
    expect(error).toBeInstanceOf(StreamFailed)
    expect((error as StreamFailed).body).toEqual({ error: 'broke at 2' })
    connection.close()
  })

  it('sends no more of a stream than its reader gives credit for, and cancels it when left', async () => {
    const connection = new FrameConnection(path, TOKEN)
    produced = 0
    cancelled = []
    const endless = await connection.send(request('endless'))
    let read = 0
    for await (const _ of endless.chunks()) {
      if (++read === 3) {
        // The reader stops here a while: the callee waits for credit instead of running on.
        await new Promise((resolve) => setTimeout(resolve, 200))
        expect(produced).toBeLessThanOrEqual(read + STREAM_WINDOW)
        break
      }
    }
    await endless.settled
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(cancelled).toEqual(['aborted'])
    const settledAt = produced
    await new Promise((resolve) => setTimeout(resolve, 100))
    expect(produced).toBe(settledAt)
    connection.close()
  })

  it('carries many streams that wait for room in one connection, with one drain listener', async () => {
    const warnings: string[] = []
    const onWarning = (warning: Error) => warnings.push(`${warning.name}: ${warning.message}`)
    process.on('warning', onWarning)
    const connection = new FrameConnection(path, TOKEN)
    try {
      const streams = await Promise.all(
        Array.from({ length: 12 }, () => connection.send(request('big')))
      )
      const firsts = await Promise.all(
        streams.map(async (stream) => {
          const seen: string[] = []
          for await (const chunk of stream.chunks()) seen.push(String(chunk).split(':')[0]!)
          return seen
        })
      )
      for (const seen of firsts) expect(seen).toEqual(Array.from({ length: 20 }, (_, i) => `${i}`))
      // Emitted on the next tick, if at all.
      await new Promise((resolve) => setImmediate(resolve))
      expect(warnings.filter((w) => w.includes('MaxListeners'))).toEqual([])
    } finally {
      process.off('warning', onWarning)
      connection.close()
    }
  })

  it("aborts the callee's handler when the caller cancels", async () => {
    const connection = new FrameConnection(path, TOKEN)
    const caller = new AbortController()
    const before = seen.length
    const hanging = connection.send(request('hang', undefined, { signal: caller.signal }))
    while (seen.length === before) await new Promise((resolve) => setTimeout(resolve, 5))
    caller.abort(new Error('the caller left'))
    await expect(hanging).rejects.toThrow('the caller left')
    const callee = seen.at(-1)!.signal
    for (let i = 0; i < 100 && !callee.aborted; i++) await new Promise((r) => setTimeout(r, 5))
    expect(callee.aborted).toBe(true)
    connection.close()
  })

  it('fails a call before any answer when the connection is refused, so that it can be retried', async () => {
    // A wrong token: the callee closes the connection unanswered.
    const guessed = new FrameConnection(path, 'a-guess')
    await expect(guessed.send(request('echo', 1))).rejects.toThrow(/closed/)
    expect(guessed.closed).toBe(true)
    const nobody = new FrameConnection(join(dir, 'nobody.sock'), TOKEN)
    await expect(nobody.send(request('echo', 1))).rejects.toMatchObject({ code: 'ENOENT' })
  })

  it('answers the calls in flight when it drains, then closes', async () => {
    const other = join(dir, 'draining.sock')
    const slow: LocalApi = async () => {
      await new Promise((resolve) => setTimeout(resolve, 150))
      return { status: 200, type: 'application/json', body: '"done"' }
    }
    const draining = await serveFrames(other, new Map([['slow', slow]]), TOKEN)
    const connection = new FrameConnection(other, TOKEN)
    const pending = connection.send(request('slow'))
    await new Promise((resolve) => setTimeout(resolve, 20))
    const closed = draining.close(0)
    expect(await (await pending).value()).toBe('done')
    await closed
    for (let i = 0; i < 100 && !connection.closed; i++) await new Promise((r) => setTimeout(r, 5))
    expect(connection.closed).toBe(true)
  })
})
