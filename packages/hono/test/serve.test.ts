// The app as a module's default export, served over HTTP on 127.0.0.1 by `deno serve` and by Bun,
// each in a child process the test ends.
import { type ChildProcess, spawn } from 'node:child_process'
import { afterEach, expect, it } from 'vitest'
import { binaries, packageDir } from './binaries.ts'

const children: ChildProcess[] = []

afterEach(async () => {
  for (const child of children.splice(0)) {
    if (child.exitCode !== null || child.signalCode !== null) continue
    const exited = new Promise((resolve) => child.once('exit', resolve))
    child.kill('SIGTERM')
    await exited
  }
})

/** Starts `command` and resolves with the origin it prints (`Listening on http://...`). */
function start(command: string[]): Promise<string> {
  const [file, ...args] = command
  const child = spawn(file!, args, {
    cwd: packageDir,
    env: { ...process.env, NO_COLOR: '1', DENO_NO_UPDATE_CHECK: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  children.push(child)
  return new Promise((resolve, reject) => {
    let output = ''
    const timer = setTimeout(() => reject(new Error(`no server after 30 s:\n${output}`)), 30_000)
    const read = (chunk: Buffer) => {
      output += chunk
      const match = output.match(/Listening on (http:\/\/127\.0\.0\.1:\d+)/)
      if (match) {
        clearTimeout(timer)
        resolve(match[1]!)
      }
    }
    child.stdout!.on('data', read)
    child.stderr!.on('data', read)
    child.on('exit', (code) => reject(new Error(`exited with ${code}:\n${output}`)))
  })
}

async function expectServed(origin: string) {
  const response = await fetch(`${origin}/greet`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'runtime' }),
  })
  expect(response.status).toBe(200)
  expect(await response.json()).toEqual({ message: 'Hello, runtime!' })
  const missing = await fetch(`${origin}/missing`)
  expect(missing.status).toBe(404)
  expect(await missing.json()).toMatchObject({ error: 'no route GET /missing' })
}

it('deno serve serves the default export', async () => {
  const origin = await start([
    binaries.deno,
    'serve',
    '--allow-read',
    '--allow-env',
    '--host',
    '127.0.0.1',
    '--port',
    '0',
    'test/serve/app.ts',
  ])
  await expectServed(origin)
})

it('Bun serves the default export', async () => {
  const origin = await start([binaries.bun, 'test/serve/bun.ts'])
  await expectServed(origin)
})
