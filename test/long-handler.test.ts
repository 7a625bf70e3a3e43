// A handler that works longer than the runtime's own idle timeout (Bun's default is 10 s) is not
// cut off: bento turns the idle timeout off while a handler runs, on every runtime. It waits 11 s
// per runtime and loads nothing, so it runs beside the other files rather than with test/load.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fresh, RUNTIMES, startBento } from './support/bento.ts'

const cwd = fileURLToPath(new URL('./fixtures/slow/', import.meta.url))

describe.each(RUNTIMES)('a long handler on %s', (runtime) => {
  it('answers after 11 s of work, past the runtime’s own idle timeout', async () => {
    const bento = startBento(runtime, ['serve', 'app.ts', '--port', '0', '--host', '127.0.0.1'], {
      cwd,
    })
    const port = Number(new URL(await bento.url()).port)
    const { status, body } = await fresh(port, 'POST', '/patient/wait', { ms: 11_000 })
    expect({ status, body }).toEqual({ status: 200, body: JSON.stringify({ waited: 11_000 }) })
    expect((await bento.stop()).code).toBe(0)
  }, 60_000)
})
