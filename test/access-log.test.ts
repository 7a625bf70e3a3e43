// The access log as a user sees it from `bento serve` and `bento dev`: a line per request to an API
// (and per 404/405), JSON under --log-format json (one object, not wrapped in the supervisor's),
// text otherwise; health and metrics left out; on in serve, off in dev unless asked. On Node, Bun
// and Deno.
import { describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, repoRoot, startBento } from './support/bento.ts'

const hello = `${repoRoot}examples/hello`
const serve = ['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '1']

/** Requests that cover an API, a bad input, an unknown route, and the operational routes. */
async function traffic(url: string) {
  const ok = await postJson(`${url}/greet`, { name: 'Ada' })
  expect(ok.status).toBe(200)
  expect((await postJson(`${url}/greet`, { name: 42 })).status).toBe(400)
  expect((await fetch(`${url}/nope`)).status).toBe(404)
  for (const path of ['/readyz', '/livez', '/metrics']) await (await fetch(`${url}${path}`)).text()
  return ok
}

describe.each(RUNTIMES)('access log on %s', (runtime) => {
  it('writes one JSON object per request under --log-format json', async () => {
    const bento = startBento(runtime, [...serve, '--log-format', 'json'], { cwd: hello })
    const url = await bento.url()
    const ok = await traffic(url)
    await bento.waitFor(/"route":"\/nope"/)
    expect((await bento.stop()).code).toBe(0)
    const entries = bento.output
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line))
    const access = entries.filter((e) => e.type === 'access')
    expect(access.map((e) => `${e.method} ${e.route} ${e.status}`)).toEqual([
      'POST /greet 200',
      'POST /greet 400',
      'GET /nope 404',
    ])
    const [first] = access
    expect(first).toMatchObject({
      level: 'info',
      service: 'hello',
      worker: 1,
      request_id: ok.headers.get('x-request-id'),
      bytes: JSON.stringify(ok.body).length,
      trace_id: null,
    })
    // Each runtime's own framing of the answer agrees with the size the line reports.
    expect(ok.headers.get('content-length')).toBe(String(first.bytes))
    expect(first.duration_ms).toBeGreaterThanOrEqual(0)
    expect(Number.isNaN(Date.parse(first.time))).toBe(false)
  })
})

describe('access log', () => {
  it('is a short text line by default, with the trace id of the caller', async () => {
    const bento = startBento('node', serve, { cwd: hello })
    const url = await bento.url()
    const response = await fetch(`${url}/greet`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01',
      },
      body: JSON.stringify({ name: 'Ada' }),
    })
    const id = response.headers.get('x-request-id')
    const line = await bento.waitFor(
      /\[worker 1\] POST \/greet 200 [\d.]+ms (\d+)B id=(\S+) trace=(\w+)/
    )
    expect(Number(line[1])).toBe((await response.text()).length)
    expect(line[2]).toBe(id)
    expect(line[3]).toBe('4bf92f3577b34da6a3ce929d0e0e4736')
    await fetch(`${url}/readyz`)
    expect((await bento.stop()).code).toBe(0)
    expect(bento.output).not.toMatch(/readyz \d{3}/)
  })

  it('is off with --no-access-log, and in dev unless --access-log', async () => {
    for (const args of [
      [...serve, '--no-access-log'],
      ['dev', '--port', '0', '--no-watch'],
    ]) {
      const bento = startBento('node', args, { cwd: hello })
      await traffic(await bento.url())
      expect((await bento.stop()).code).toBe(0)
      expect(bento.output).not.toMatch(/POST \/greet \d{3}/)
    }
    const dev = startBento('node', ['dev', '--port', '0', '--no-watch', '--access-log'], {
      cwd: hello,
    })
    await traffic(await dev.url())
    await dev.waitFor(/GET \/nope 404/)
    expect((await dev.stop()).code).toBe(0)
    expect(dev.output).toMatch(/\[worker 1\] POST \/greet 200 /)
  })
})
