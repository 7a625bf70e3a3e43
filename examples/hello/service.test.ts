import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, startBento } from '../../test/support/bento.ts'

const cwd = fileURLToPath(new URL('.', import.meta.url))

describe.each(RUNTIMES)('hello on %s', (runtime) => {
  it('answers through `bento serve` with two workers, validates input and stops cleanly', async () => {
    const bento = startBento(
      runtime,
      ['serve', '--port', '0', '--host', '127.0.0.1', '--workers', '2'],
      { cwd }
    )
    const url = await bento.url()

    const ok = await postJson(`${url}/greet`, { name: 'Ada' })
    expect(ok.status).toBe(200)
    expect(ok.body.message).toBe('Hello, Ada!')
    expect([1, 2]).toContain(ok.body.worker)

    const bad = await postJson(`${url}/greet`, { name: '' })
    expect(bad.status).toBe(400)
    expect(bad.body.issues[0].path).toBe('name')

    const docs = await (await fetch(`${url}/docs.json`)).json()
    expect(Object.keys(docs.paths)).toContain('/greet')

    const { code } = await bento.stop('SIGTERM')
    expect(code).toBe(0)
    expect(bento.output).toMatch(/2 workers/)
  })
})
