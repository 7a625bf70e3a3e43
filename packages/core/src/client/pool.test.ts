import { describe, expect, it } from 'vitest'
import { type Answer, type CallRequest, httpAnswer } from './answer.ts'
import { EndpointPool } from './pool.ts'

const api = { name: 'embed', route: '/embed', method: 'POST' }
const call = (signal: AbortSignal): CallRequest => ({ api, input: {}, headers: {}, signal })

/** A transport whose answers the test releases one by one. */
function controlled() {
  const pending: {
    endpoint: string
    answer: (response: Answer) => void
    fail: (e: Error) => void
  }[] = []
  const send = (endpoint: string) =>
    new Promise<Answer>((answer, fail) => pending.push({ endpoint, answer, fail }))
  return { pending, send }
}

const json = () =>
  httpAnswer(new Response('{}', { headers: { 'content-type': 'application/json' } }))
const tick = () => new Promise((resolve) => setTimeout(resolve, 0))

describe('EndpointPool', () => {
  it('sends each call to the worker with the fewest outstanding, in turn among equals', async () => {
    const t = controlled()
    const pool = new EndpointPool('embedder', t.send)
    pool.update(['a', 'b'])
    const signal = new AbortController().signal
    const first = pool.send(call(signal))
    const second = pool.send(call(signal))
    const third = pool.send(call(signal))
    await tick()
    expect(t.pending.map((p) => p.endpoint)).toEqual(['a', 'b', 'a'])
    expect(pool.snapshot()).toEqual([
      { address: 'a', outstanding: 2 },
      { address: 'b', outstanding: 1 },
    ])
    // b is done: the next call goes there although a comes next in turn.
    t.pending[1]!.answer(json())
    await second
    const fourth = pool.send(call(signal))
    await tick()
    expect(t.pending[3]!.endpoint).toBe('b')
    for (const p of t.pending) p.answer(json())
    await Promise.all([first, third, fourth])
    expect(pool.snapshot().every((e) => e.outstanding === 0)).toBe(true)
  })

  it('sends a call whose connection failed once more, to another worker', async () => {
    const t = controlled()
    const pool = new EndpointPool('embedder', t.send)
    pool.update(['a', 'b'])
    const answered = pool.send(call(new AbortController().signal))
    await tick()
    t.pending[0]!.fail(Object.assign(new Error('connect ECONNREFUSED'), { code: 'ECONNREFUSED' }))
    await tick()
    expect(t.pending[1]!.endpoint).toBe('b')
    t.pending[1]!.answer(json())
    expect((await answered).status).toBe(200)
  })

  it('tries the only worker again a moment after its connection failed, then fails the call', async () => {
    // A socket file that vanished under a live worker: the supervisor never says it is gone.
    const tried: string[] = []
    const pool = new EndpointPool('embedder', (endpoint) => {
      tried.push(endpoint)
      return Promise.reject(Object.assign(new Error('connect ENOENT'), { code: 'ENOENT' }))
    })
    pool.update(['a'])
    const caller = new AbortController()
    await expect(pool.send(call(caller.signal))).rejects.toThrow('ENOENT')
    expect(caller.signal.aborted).toBe(false)
    expect(tried).toEqual(['a', 'a'])
  })

  it('fails a call whose second try failed too', async () => {
    const pool = new EndpointPool('embedder', () => Promise.reject(new Error('reset')))
    pool.update(['a', 'b'])
    await expect(pool.send(call(new AbortController().signal))).rejects.toThrow('reset')
  })

  it('waits for a worker while none is ready, as long as the signal allows', async () => {
    const t = controlled()
    const pool = new EndpointPool('embedder', t.send)
    const waiting = pool.send(call(new AbortController().signal))
    await tick()
    expect(t.pending).toHaveLength(0)
    pool.update(['late'])
    await tick()
    expect(t.pending[0]!.endpoint).toBe('late')
    t.pending[0]!.answer(json())
    await waiting

    pool.update([])
    const gone = new AbortController()
    const abandoned = pool.send(call(gone.signal))
    await tick()
    gone.abort(new Error('caller left'))
    await expect(abandoned).rejects.toThrow('caller left')
  })

  it('says when it is reachable, across updates that still name no worker', async () => {
    const pool = new EndpointPool('embedder', controlled().send)
    let reached = false
    void pool.reachable().then(() => (reached = true))
    // The first list a supervisor sends may be empty: the waiter must outlive it.
    pool.update([])
    await tick()
    expect(reached).toBe(false)
    pool.update(['one'])
    await tick()
    expect(reached).toBe(true)
    await pool.reachable()
  })

  it('counts a streaming answer as outstanding until its body ends', async () => {
    const t = controlled()
    const pool = new EndpointPool('embedder', t.send)
    pool.update(['a'])
    const sent = pool.send(call(new AbortController().signal))
    await tick()
    t.pending[0]!.answer(
      httpAnswer(new Response('data: 1\n\n', { headers: { 'content-type': 'text/event-stream' } }))
    )
    const answer = await sent
    expect(pool.snapshot()[0]!.outstanding).toBe(1)
    expect(await answer.value()).toEqual([1])
    await tick()
    expect(pool.snapshot()[0]!.outstanding).toBe(0)
  })
})
