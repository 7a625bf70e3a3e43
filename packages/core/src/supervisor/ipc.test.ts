import { statSync } from 'node:fs'
import { dirname } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { type Channel, connectIpc, type IpcServer, listenIpc } from './ipc.ts'
import type { SupervisorMessage, WorkerMessage } from './protocol.ts'

const servers: IpcServer[] = []
afterEach(() => {
  for (const server of servers.splice(0)) server.close()
})

function next<T>(ch: { onMessage(h: (m: T) => void): void }): Promise<T> {
  return new Promise((resolve) => ch.onMessage(resolve))
}

describe('ipc', () => {
  it('carries messages both ways as JSON lines, on a private socket', async () => {
    const accepted: Channel<WorkerMessage, SupervisorMessage>[] = []
    const server = await listenIpc((ch) => accepted.push(ch))
    servers.push(server)
    const workerSide = await connectIpc(server.path)
    await expect.poll(() => accepted.length).toBe(1)
    const supervisorSide = accepted[0]!
    expect(statSync(server.path).mode & 0o777).toBe(0o600)
    expect(statSync(dirname(server.path)).mode & 0o777).toBe(0o700)

    const hello = next(supervisorSide)
    await workerSide.send({ type: 'hello', workerIndex: 2, pid: 42, id: '2.1' })
    expect(await hello).toEqual({ type: 'hello', workerIndex: 2, pid: 42, id: '2.1' })

    const gathered = next(workerSide)
    await supervisorSide.send({ type: 'gathered', id: 7, values: [{ a: 'x\ny' }, 2] })
    expect(await gathered).toEqual({ type: 'gathered', id: 7, values: [{ a: 'x\ny' }, 2] })
  })

  it('tells the worker when the supervisor side goes away, and removes the socket', async () => {
    const server = await listenIpc(() => {})
    const worker = await connectIpc(server.path)
    const closed = new Promise<void>((resolve) => worker.onClose(resolve))
    server.close()
    await closed
    expect(worker.closed).toBe(true)
    expect(() => statSync(server.path)).toThrow()
    await expect(connectIpc(server.path)).rejects.toThrow(/ENOENT/)
    // Sending on a closed channel is a no-op, not an error.
    await worker.send({ type: 'ready' })
  })
})
