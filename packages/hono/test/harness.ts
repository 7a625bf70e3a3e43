// The cross-runtime suite's only framework: named cases collected in order, and helpers over
// node:assert (which Node, Bun and Deno all provide). No runner-specific API is used, so the same
// cases run as vitest tests under Node (app.test.ts) and through run-cases.ts under Bun and Deno
// (runtimes.test.ts), each with its real assertions.
import assert from 'node:assert/strict'
import type { Hono } from 'hono'

/** One test: a name unique in the suite, and a body that throws on failure. */
export interface Case {
  name: string
  run: () => Promise<void> | void
}

/** A group of cases, as one file of the suite defines it. */
export interface Group {
  name: string
  cases: Case[]
}

/**
 * Defines a group of cases: `define('streaming', (test) => { test('frames SSE', async () => ...) })`.
 * @example
 * export default define('errors', (test) => {
 *   test('a throwing handler gets 500', async () => { ... })
 * })
 */
export function define(
  name: string,
  body: (test: (name: string, run: Case['run']) => void) => void
): Group {
  const cases: Case[] = []
  body((caseName, run) => {
    cases.push({ name: caseName, run })
  })
  return { name, cases }
}

/** A response and its body, parsed as JSON when it is JSON. */
export interface Answer {
  status: number
  headers: Headers
  text: string
  json: unknown
}

/**
 * Sends a request to `app` in process and reads the whole answer.
 * @example
 * const { status, json } = await call(app, 'POST', '/greet', { name: 'Ada' })
 */
export async function call(
  app: Hono,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {}
): Promise<Answer> {
  const init: RequestInit = { method, headers: { ...headers } }
  if (body !== undefined) {
    if (typeof body === 'string' || body instanceof FormData || body instanceof ReadableStream) {
      init.body = body as BodyInit
    } else {
      init.body = JSON.stringify(body)
      ;(init.headers as Record<string, string>)['content-type'] ??= 'application/json'
    }
    if (body instanceof ReadableStream) (init as { duplex?: string }).duplex = 'half'
  }
  const res = await app.request(path, init)
  const text = await res.text()
  let json: unknown
  if (/^application\/(.+\+)?json\b/.test(res.headers.get('content-type') ?? ''))
    json = JSON.parse(text)
  return { status: res.status, headers: res.headers, text, json }
}

/**
 * Asserts a JSON error answer: its status, the `error` message (a pattern), a `requestId` equal
 * to the `x-request-id` header.
 * @example
 * expectError(answer, 404, /no route/)
 */
export function expectError(
  answer: Answer,
  status: number,
  message: RegExp
): Record<string, unknown> {
  assert.equal(answer.status, status, `status ${answer.status}: ${answer.text}`)
  assert.match(answer.headers.get('content-type') ?? '', /application\/json/)
  const body = answer.json as Record<string, unknown>
  assert.match(String(body.error), message)
  assert.equal(typeof body.requestId, 'string')
  assert.equal(body.requestId, answer.headers.get('x-request-id'))
  return body
}

/**
 * Asserts that `actual` contains `expected`: every key of `expected` (deeply), extra keys allowed.
 * @example
 * expectSubset({ a: 1, b: 2 }, { a: 1 })
 */
export function expectSubset(actual: unknown, expected: unknown, path = '$'): void {
  if (typeof expected !== 'object' || expected === null) {
    if (expected instanceof RegExp) assert.match(String(actual), expected, path)
    else assert.deepEqual(actual, expected, path)
    return
  }
  if (expected instanceof RegExp) {
    assert.match(String(actual), expected, path)
    return
  }
  assert.ok(
    typeof actual === 'object' && actual !== null,
    `${path}: expected an object, got ${String(actual)}`
  )
  if (Array.isArray(expected)) {
    assert.ok(Array.isArray(actual), `${path}: expected an array`)
    assert.equal(actual.length, expected.length, `${path}: length`)
  }
  for (const [key, value] of Object.entries(expected)) {
    expectSubset((actual as Record<string, unknown>)[key], value, `${path}.${key}`)
  }
}

/**
 * Resolves after `ms` milliseconds.
 * @example
 * await sleep(10)
 */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms))
}

/**
 * Waits until `check` returns true, polling, for at most `ms`.
 * @example
 * await until(() => finallyRan)
 */
export async function until(
  check: () => boolean,
  ms = 2_000,
  what = 'the condition'
): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * Waits until the async `check` resolves true, polling, for at most `ms`.
 * @example
 * await eventually(async () => (await queueDepth(app)) === 1)
 */
export async function eventually(
  check: () => Promise<boolean>,
  ms = 2_000,
  what = 'the condition'
): Promise<void> {
  const end = Date.now() + ms
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await sleep(5)
  }
}

/**
 * How many requests wait for a concurrency permit, read from the app's own /metrics.
 * @example
 * await eventually(async () => (await queueDepth(app)) === 2)
 */
export async function queueDepth(app: Hono): Promise<number> {
  const text = await (await app.request('/metrics')).text()
  const match = text.match(/^bento_queue_depth\{[^}]*\} (\d+)$/m)
  return match ? Number(match[1]) : Number.NaN
}

/**
 * A promise with its resolve function, to hold a handler until the test lets it go.
 * @example
 * const gate = deferred<void>(); ...; gate.resolve()
 */
export function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void
  const promise = new Promise<T>((r) => {
    resolve = r
  })
  return { promise, resolve }
}

/** A logger that keeps what it is given, so 500s don't spill stack traces into the test output. */
export function quietErrors(): { onError: (error: unknown) => void; errors: unknown[] } {
  const errors: unknown[] = []
  return { onError: (error) => errors.push(error), errors }
}

/** A name unique in this process, for services whose metrics a case reads. */
let counter = 0
export function unique(prefix: string): string {
  counter += 1
  return `${prefix}-${counter}`
}

export { assert }
