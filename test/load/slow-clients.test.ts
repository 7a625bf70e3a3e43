// Slow clients can't starve a service: with 500 connections that are idle, trickle their headers
// or trickle their bodies, normal requests are still answered, on every runtime (how fast is
// printed, not asserted: a bound on time would measure the machine, not bento).
// A body that has not arrived by the API's timeout gets 408 and its connection is closed (on
// Deno the 408 is sent but the connection stays open while the client keeps sending: Deno.serve
// has no way to close it; docs/architecture.md). That a handler working longer than the runtime's
// idle timeout is not cut off is test/long-handler.test.ts (a wait, not a load: it runs in
// parallel with the other files).
import net from 'node:net'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { fresh, RUNTIMES, startBento } from '../support/bento.ts'

const cwd = fileURLToPath(new URL('../fixtures/slow/', import.meta.url))

interface Slow {
  socket: net.Socket
  timer?: ReturnType<typeof setInterval>
  data: string
  closed: boolean
  /** Resolves once the connection is open and its first bytes are written. */
  opened: Promise<void>
}

function open(port: number, kind: 'silent' | 'headers' | 'body'): Slow {
  const socket = net.connect(port, '127.0.0.1')
  const slow: Slow = {
    socket,
    data: '',
    closed: false,
    opened: new Promise((resolve) => socket.once('connect', () => resolve())),
  }
  socket.setEncoding('latin1')
  socket.on('data', (chunk: string) => {
    slow.data += chunk
  })
  socket.on('error', () => {})
  socket.on('close', () => {
    slow.closed = true
    clearInterval(slow.timer)
  })
  socket.on('connect', () => {
    if (kind === 'headers') {
      socket.write('POST /quick/greet HTTP/1.1\r\nHost: x\r\n')
      slow.timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 500)
    } else if (kind === 'body') {
      socket.write(
        'POST /quick/greet HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{'
      )
      slow.timer = setInterval(() => socket.write(' '), 500)
    }
  })
  return slow
}

describe.each(RUNTIMES)('slow clients on %s', (runtime) => {
  it('do not starve a normal request, and trickled bodies time out', async () => {
    const bento = startBento(
      runtime,
      ['serve', 'app.ts', '--port', '0', '--host', '127.0.0.1', '--workers', '2'],
      { cwd }
    )
    const port = Number(new URL(await bento.url()).port)
    const slow = [
      ...Array.from({ length: 200 }, () => open(port, 'silent')),
      ...Array.from({ length: 150 }, () => open(port, 'headers')),
      ...Array.from({ length: 150 }, () => open(port, 'body')),
    ]
    try {
      await Promise.all(slow.map((s) => s.opened))
      const normal: number[] = []
      for (let i = 0; i < 10; i++) {
        const { status, ms } = await fresh(port, 'POST', '/quick/greet', { name: `n${i}` })
        expect(status).toBe(200)
        normal.push(ms)
      }
      // The trickled bodies outlived quick's 3 s timeout: 408, and the connection closed.
      const bodies = slow.slice(350)
      const settled = (s: Slow) => (runtime === 'deno' ? s.data !== '' : s.closed)
      const deadline = Date.now() + 10_000
      while (Date.now() < deadline && !bodies.every(settled)) {
        await new Promise((r) => setTimeout(r, 100))
      }
      expect(bodies.every((s) => /^HTTP\/1\.1 408 /.test(s.data))).toBe(true)
      if (runtime === 'deno') expect(bodies.some((s) => s.closed)).toBe(false)
      else expect(bodies.filter((s) => !s.closed).length).toBe(0)
      console.log(
        `${runtime}: normal requests beside 500 slow connections took ${normal.map((ms) => Math.round(ms)).join(', ')} ms`
      )
    } finally {
      for (const s of slow) {
        clearInterval(s.timer)
        s.socket.destroy()
      }
    }
    expect((await bento.stop()).code).toBe(0)
  }, 60_000)
})
