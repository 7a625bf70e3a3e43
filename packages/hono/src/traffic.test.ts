import { describe, expect, it } from 'vitest'
import { acquire, Limiter, withTimeout } from './traffic.ts'

describe('Limiter', () => {
  it('admits maxConcurrency, then queues, then refuses', () => {
    const limiter = new Limiter(2, 1)
    expect(limiter.tryAcquire()).toBe(true)
    expect(limiter.tryAcquire()).toBe(true)
    expect(limiter.tryAcquire()).toBe(false)
    expect(limiter.enqueue()).toBeDefined()
    expect(limiter.enqueue()).toBeUndefined()
    expect(limiter.queued).toBe(1)
  })

  it('hands a freed permit to the longest waiter, skipping those who gave up', async () => {
    const limiter = new Limiter(1, 3)
    limiter.tryAcquire()
    const order: string[] = []
    const a = limiter.enqueue()!
    const b = limiter.enqueue()!
    const c = limiter.enqueue()!
    a.admitted.then(() => order.push('a'))
    b.admitted.then(() => order.push('b'))
    c.admitted.then(() => order.push('c'))
    b.cancel()
    expect(limiter.queued).toBe(2)
    limiter.release()
    await Promise.resolve()
    limiter.release()
    await Promise.resolve()
    expect(order).toEqual(['a', 'c'])
    expect(limiter.active).toBe(1)
    limiter.release()
    expect(limiter.active).toBe(0)
  })

  it('a waiter that gives up after being admitted hands the permit on', async () => {
    const limiter = new Limiter(1, 2)
    limiter.tryAcquire()
    const a = limiter.enqueue()!
    const b = limiter.enqueue()!
    limiter.release()
    a.cancel()
    await b.admitted
    expect(limiter.active).toBe(1)
    expect(limiter.queued).toBe(0)
  })

  it('does not jump the queue when a permit frees while others wait', () => {
    const limiter = new Limiter(1, 1)
    limiter.tryAcquire()
    limiter.enqueue()
    limiter.release()
    expect(limiter.tryAcquire()).toBe(false)
  })
})

describe('acquire', () => {
  it('rejects with 503 and Retry-After when the queue is full', async () => {
    const limiter = new Limiter(1, 0)
    limiter.tryAcquire()
    await expect(acquire(limiter, 1000, new AbortController().signal)).rejects.toMatchObject({
      status: 503,
      headers: { 'retry-after': '1' },
    })
  })

  it('rejects with 504 after the timeout and leaves the queue', async () => {
    const limiter = new Limiter(1, 1)
    limiter.tryAcquire()
    await expect(acquire(limiter, 10, new AbortController().signal, 60)).rejects.toMatchObject({
      status: 504,
      message: 'no answer within the 60 s timeout',
    })
    expect(limiter.queued).toBe(0)
  })

  it('rejects with 499 when the client leaves', async () => {
    const limiter = new Limiter(1, 1)
    limiter.tryAcquire()
    const controller = new AbortController()
    const waiting = acquire(limiter, 1000, controller.signal)
    controller.abort()
    await expect(waiting).rejects.toMatchObject({ status: 499 })
    expect(limiter.queued).toBe(0)
  })
})

describe('withTimeout', () => {
  it('settles like the work when it is in time', async () => {
    await expect(withTimeout(Promise.resolve(1), 50, () => {})).resolves.toBe(1)
    await expect(withTimeout(Promise.reject(new Error('x')), 50, () => {})).rejects.toThrow('x')
  })

  it('rejects with 504 and calls onTimeout when the work is late', async () => {
    let called = false
    const late = new Promise((resolve) => setTimeout(resolve, 200))
    await expect(withTimeout(late, 5, () => (called = true), 2)).rejects.toMatchObject({
      status: 504,
    })
    expect(called).toBe(true)
  })

  it('times out each of many pending works at its own deadline, shorter ones added later first', async () => {
    const never = new Promise<never>(() => {})
    const order: string[] = []
    const watch = (name: string, ms: number) =>
      withTimeout(never, ms, () => order.push(name)).catch(() => {})
    const settled = withTimeout(Promise.resolve('kept'), 1, () => order.push('settled'))
    const all = [watch('long', 120), watch('short', 10), watch('middle', 60)]
    expect(await settled).toBe('kept')
    await Promise.all(all)
    expect(order).toEqual(['short', 'middle', 'long'])
  })
})
