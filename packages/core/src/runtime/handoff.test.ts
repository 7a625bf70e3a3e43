// Node's round-robin, with real forked workers: connections go to admitted workers in turn, wait
// while none is ready, and a connection sent to a worker that dies before taking it goes to
// another worker instead of hanging.
import { type ChildProcess, fork } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, afterEach, describe, expect, it } from 'vitest'
import { listenAndRoute, type Router } from './handoff.ts'

const dir = mkdtempSync(join(tmpdir(), 'bento-handoff-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))

// A worker that answers each connection with its own name, acknowledging as bento's worker does;
// with `stall`, it blocks its event loop once up, so a connection sent to it is never taken.
const script = join(dir, 'worker.cjs')
writeFileSync(
  script,
  `const name = process.argv[2]
process.on('message', (message, socket) => {
  if (message !== 'bento:connection') return
  process.send('bento:accepted')
  socket.on('data', () => socket.end('HTTP/1.1 200 OK\\r\\nContent-Length: ' + name.length + '\\r\\nConnection: close\\r\\n\\r\\n' + name))
})
process.send('up', () => {
  if (process.argv[3] === 'stall') for (;;) {}
})
`
)

const children: ChildProcess[] = []
const routers: Router[] = []
afterEach(() => {
  for (const child of children.splice(0)) child.kill('SIGKILL')
  for (const router of routers.splice(0)) router.close()
})

async function worker(name: string, mode = ''): Promise<ChildProcess> {
  const child = fork(script, [name, mode], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  children.push(child)
  await new Promise<void>((resolve) => child.once('message', () => resolve()))
  return child
}

function ask(port: number): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () =>
      socket.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n')
    )
    let data = ''
    socket.setEncoding('utf8')
    socket.on('data', (chunk: string) => {
      data += chunk
    })
    socket.on('end', () => resolve(data.split('\r\n\r\n')[1] ?? ''))
    socket.on('error', reject)
    socket.setTimeout(5000, () => reject(new Error('no answer within 5 s')))
  })
}

async function route(): Promise<Router> {
  const router = await listenAndRoute('127.0.0.1', 0)
  routers.push(router)
  return router
}

describe('Router', () => {
  it('hands connections to the admitted workers in turn', async () => {
    const router = await route()
    router.admit(await worker('a'))
    router.admit(await worker('b'))
    const answers = []
    for (let i = 0; i < 6; i++) answers.push(await ask(router.port))
    expect(answers.sort()).toEqual(['a', 'a', 'a', 'b', 'b', 'b'])
  })

  it('holds connections while no worker is ready, and hands them over once one is', async () => {
    const router = await route()
    const waiting = [ask(router.port), ask(router.port)]
    await new Promise((r) => setTimeout(r, 200))
    router.admit(await worker('late'))
    expect(await Promise.all(waiting)).toEqual(['late', 'late'])
  })

  it('stops handing connections to a withdrawn worker', async () => {
    const router = await route()
    const a = await worker('a')
    router.admit(a)
    router.admit(await worker('b'))
    router.withdraw(a)
    for (let i = 0; i < 4; i++) expect(await ask(router.port)).toBe('b')
  })

  it('gives a connection to another worker when its worker dies before taking it', async () => {
    const router = await route()
    const stuck = await worker('stuck', 'stall')
    router.admit(stuck)
    const answer = ask(router.port)
    await new Promise((r) => setTimeout(r, 200))
    router.admit(await worker('rescuer'))
    stuck.kill('SIGKILL')
    expect(await answer).toBe('rescuer')
  })
})
