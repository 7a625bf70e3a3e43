import { mkdtempSync, rmSync } from 'node:fs'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type AdminServer, listenAdmin } from './admin.ts'

describe('listenAdmin', () => {
  const cleanup: (() => void)[] = []
  afterEach(() => {
    for (const undo of cleanup.splice(0).reverse()) undo()
  })

  async function worker(name: string): Promise<string> {
    const dir = mkdtempSync(join(tmpdir(), 'bento-admin-'))
    const path = join(dir, 'admin.sock')
    const server: Server = createServer((req, res) => res.end(`${name} ${req.url}`))
    await new Promise<void>((resolve) => server.listen(path, resolve))
    cleanup.push(() => {
      server.closeAllConnections()
      server.close()
      rmSync(dir, { recursive: true, force: true })
    })
    return path
  }

  it("pipes each connection to the socket it is given, and answers 503 when there's none", async () => {
    const sockets = [await worker('one'), await worker('two')]
    let turn = 0
    let none = false
    const admin: AdminServer = await listenAdmin('127.0.0.1', 0, () =>
      none ? undefined : sockets[turn++ % 2]
    )
    cleanup.push(() => admin.close())
    const get = async () => {
      const response = await fetch(`http://127.0.0.1:${admin.port}/metrics`, {
        headers: { connection: 'close' },
      })
      return [response.status, await response.text()]
    }
    expect(await get()).toEqual([200, 'one /metrics'])
    expect(await get()).toEqual([200, 'two /metrics'])
    none = true
    const [status, body] = await get()
    expect(status).toBe(503)
    expect(JSON.parse(body as string).error).toMatch(/no worker is ready/)
  })
})
