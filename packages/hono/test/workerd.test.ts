// The edge claim, tested: test/workerd/worker.ts (a service's app as the default export, nothing
// else) is bundled by esbuild for the `workerd` condition with no Node built-ins allowed, and served
// by Cloudflare's workerd runtime (the npm `workerd` binary; miniflare and wrangler need Node 22)
// without the nodejs_compat flag. workerd listens on 127.0.0.1 at a port it picks and reports on
// its control fd; the test calls the app and stops workerd.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Readable } from 'node:stream'
import { fileURLToPath } from 'node:url'
import { build } from 'esbuild'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'

const require = createRequire(import.meta.url)

function findWorkerd(): { binary?: string; compatibilityDate?: string; reason?: string } {
  try {
    const { default: binary, compatibilityDate } = require('workerd') as {
      default: string
      compatibilityDate: string
    }
    execFileSync(binary, ['--version'], { stdio: 'pipe', timeout: 30_000 })
    return { binary, compatibilityDate }
  } catch (error) {
    return {
      reason: `the workerd binary does not run here: ${(error as Error).message.split('\n')[0]}`,
    }
  }
}

const workerd = findWorkerd()
if (workerd.reason) console.warn(`workerd tests skipped: ${workerd.reason}`)

describe.skipIf(workerd.binary === undefined)('inside workerd', () => {
  let dir: string
  let child: ChildProcess | undefined
  let origin: string
  let stderr = ''
  let stdout = ''
  // What workerd printed: its console goes to both streams.
  const output = () => stdout + stderr
  let remote: { url: string; close(): Promise<void> }

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'bento-workerd-'))
    // The service the /remote caller reaches by URL: served by Node, outside workerd.
    remote = await serveOnNode()
    await build({
      entryPoints: [fileURLToPath(new URL('./workerd/worker.ts', import.meta.url))],
      outfile: join(dir, 'worker.js'),
      bundle: true,
      format: 'esm',
      platform: 'neutral',
      target: 'es2022',
      conditions: ['workerd', 'worker', 'browser'],
      mainFields: ['module', 'main'],
      define: { EDGE_URL: JSON.stringify(remote.url) },
      logLevel: 'silent',
    })
    writeFileSync(
      join(dir, 'config.capnp'),
      `using Workerd = import "/workerd/workerd.capnp";
const config :Workerd.Config = (
  services = [
    (name = "main", worker = .worker),
    # Outbound fetches may reach the loopback address of the test's own server.
    (name = "loopback", network = (allow = ["local"])),
  ],
  sockets = [(name = "http", address = "127.0.0.1:0", http = (), service = "main")],
);
const worker :Workerd.Worker = (
  modules = [(name = "worker", esModule = embed "worker.js")],
  compatibilityDate = "${workerd.compatibilityDate}",
  globalOutbound = "loopback",
);
`
    )
    // fd 3 is workerd's control channel: it writes one JSON line per socket it listens on.
    child = spawn(workerd.binary!, ['serve', join(dir, 'config.capnp'), '--control-fd=3'], {
      stdio: ['ignore', 'pipe', 'pipe', 'pipe'],
    })
    child.stderr!.on('data', (chunk) => (stderr += chunk))
    child.stdout!.on('data', (chunk) => (stdout += chunk))
    const port = await new Promise<number>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`workerd did not listen:\n${stderr}`)),
        30_000
      )
      let buffered = ''
      ;(child!.stdio[3] as Readable).on('data', (chunk) => {
        buffered += chunk
        for (const line of buffered.split('\n')) {
          if (!line.trim()) continue
          try {
            const event = JSON.parse(line) as { event: string; socket: string; port: number }
            if (event.event === 'listen' && event.socket === 'http') {
              clearTimeout(timer)
              resolve(event.port)
            }
          } catch {
            // An incomplete line; the rest comes with the next chunk.
          }
        }
      })
      child!.on('exit', (code) => reject(new Error(`workerd exited (${code}):\n${stderr}`)))
    })
    origin = `http://127.0.0.1:${port}`
  }, 90_000)

  afterAll(async () => {
    if (child && child.exitCode === null) {
      const exited = new Promise((resolve) => child!.once('exit', resolve))
      child.kill('SIGTERM')
      await exited
    }
    if (dir) rmSync(dir, { recursive: true, force: true })
    await remote?.close()
  })

  it('the bundle has no Node built-ins', async () => {
    const { readFileSync } = await import('node:fs')
    const bundle = readFileSync(join(dir, 'worker.js'), 'utf8')
    expect(bundle).not.toMatch(/from\s*["']node:|require\(["']node:|import\(["']node:/)
  })

  it('calls an API and gets its answer', async () => {
    const response = await fetch(`${origin}/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'workerd' }),
    })
    expect(response.status, stderr).toBe(200)
    expect(await response.json()).toEqual({
      message: 'Hello, workerd!',
      runtime: 'Cloudflare-Workers',
    })
    expect(response.headers.get('x-request-id')).toMatch(/^[0-9a-f]{16}-[0-9a-z]+$/)
  })

  it('validates, chooses statuses and answers 404 as JSON', async () => {
    const invalid = await fetch(`${origin}/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: '' }),
    })
    expect(invalid.status).toBe(400)
    expect(await invalid.json()).toMatchObject({
      error: 'invalid input',
      issues: [{ path: 'name' }],
    })
    const teapot = await fetch(`${origin}/teapot`, { method: 'POST' })
    expect(teapot.status).toBe(418)
    const missing = await fetch(`${origin}/nope`)
    expect(missing.status).toBe(404)
    expect(await missing.json()).toMatchObject({ error: 'no route GET /nope' })
  })

  it('streams server-sent events', async () => {
    const response = await fetch(`${origin}/tokens`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ text: 'on the edge' }),
    })
    expect(response.headers.get('content-type')).toMatch(/text\/event-stream/)
    expect(await response.text()).toBe(
      'data: {"word":"on"}\n\ndata: {"word":"the"}\n\ndata: {"word":"edge"}\n\n'
    )
  })

  it('calls a dependency at its URL, and in this process only when asked to', async () => {
    const relay = (prefix: string) =>
      fetch(`${origin}${prefix}/relay`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: 'edge' }),
      })
    const expected = {
      greeting: { message: 'Hello, edge!' },
      words: [{ word: 'hi' }, { word: 'edge' }],
    }
    const remoteAnswer = await relay('/remote')
    expect(remoteAnswer.status, stderr).toBe(200)
    // Served by Node, the greeting says so: the call really left workerd.
    expect(await remoteAnswer.json()).toMatchObject({
      ...expected,
      greeting: { runtime: expect.stringMatching(/^Node\.js/) },
    })
    const local = await relay('/local')
    expect(local.status, stderr).toBe(200)
    expect(await local.json()).toMatchObject({
      ...expected,
      greeting: { runtime: 'Cloudflare-Workers' },
    })
    // The answer names the dependency; the fix is for the operator, in workerd's log.
    const missing = await relay('/missing')
    expect(missing.status).toBe(503)
    expect(((await missing.json()) as { error: string }).error).toBe(
      'the dependency "edge" did not answer'
    )
    for (let i = 0; i < 100 && !/no address for the dependency "edge"/.test(output()); i++) {
      await new Promise((resolve) => setTimeout(resolve, 50))
    }
    expect(output()).toMatch(/no address for the dependency "edge".*dependencies: 'in-process'/)
  })

  it('serves health, metrics, the OpenAPI document and the docs page', async () => {
    expect((await fetch(`${origin}/livez`)).status).toBe(200)
    expect((await fetch(`${origin}/readyz`)).status).toBe(200)
    const metrics = await (await fetch(`${origin}/metrics`)).text()
    // Two greetings: the test's own, and the one the /local relay asked for in this process.
    expect(metrics).toMatch(/bento_requests_total\{service="edge",api="greet",status="200"\} 2/)
    const doc = (await (await fetch(`${origin}/docs.json`)).json()) as {
      openapi: string
      paths: object
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(['/greet', '/tokens', '/teapot'])
    expect(await (await fetch(`${origin}/`)).text()).toContain('swagger-ui-bundle.js')
    const bundle = await fetch(`${origin}/docs/swagger-ui-bundle.js`)
    expect(bundle.status).toBe(200)
    expect((await bundle.text()).length).toBeGreaterThan(500_000)
  })
})

// The edge service on Node (@hono/node-server), for the /remote caller to reach by URL.
async function serveOnNode(): Promise<{ url: string; close(): Promise<void> }> {
  const { serve } = await import('@hono/node-server')
  const { edge } = await import('./workerd/edge.ts')
  const { toHono } = await import('../src/index.ts')
  const app = toHono(edge, { docs: false })
  return new Promise((resolve) => {
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, (info) =>
      resolve({
        url: `http://127.0.0.1:${info.port}`,
        close: () => new Promise((done) => server.close(() => done())),
      })
    )
  })
}
