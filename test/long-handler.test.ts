// A handler that works longer than the runtime's own idle timeout (Bun's default is 10 s) is not
// cut off: bento turns the idle timeout off while a handler runs, on every runtime. It waits 11 s
// per runtime and loads nothing, so it runs beside the other files rather than with test/load.
import http from 'node:http'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/slow/', import.meta.url))

/** POSTs JSON on a fresh connection; resolves with the status and the body. */
function post(port: number, path: string, data: unknown) {
  return new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        path,
        method: 'POST',
        agent: false,
        headers: { 'content-type': 'application/json', connection: 'close' },
      },
      (res) => {
        let body = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => {
          body += chunk
        })
        res.on('end', () => resolve({ status: res.statusCode!, body }))
      }
    )
    req.on('error', reject)
    req.end(JSON.stringify(data))
  })
}

describe.each(RUNTIMES)('a long handler on %s', (runtime) => {
  it('answers after 11 s of work, past the runtime’s own idle timeout', async () => {
    const bento = startBento(runtime, ['serve', 'app.ts', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
    })
    const port = Number(new URL(await bento.url()).port)
    const answer = await post(port, '/patient/wait', { ms: 11_000 })
    expect(answer).toEqual({ status: 200, body: JSON.stringify({ waited: 11_000 }) })
    expect((await bento.stop()).code).toBe(0)
  }, 60_000)
})
