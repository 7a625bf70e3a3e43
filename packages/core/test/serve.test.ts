// serve(): from an entry to running workers, under Node, Bun and Deno. The supervisor never imports
// the entry: a deployment process describes it and runs onDeployment once; every worker runs
// onStartup and onShutdown for every service it serves; an app's pool is planned from its services.
import { spawnSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { findWorkers, fixture, Proc, RUNTIMES, runtimeCommand } from './harness.ts'

function serve(
  runtime: (typeof RUNTIMES)[number],
  config: Record<string, unknown>,
  env: Record<string, string> = {}
) {
  return new Proc([...runtimeCommand[runtime], fixture('serve.mjs')], {
    BENTO_TEST_CONFIG: JSON.stringify(config),
    ...env,
  })
}

/** The endpoints serve.mjs printed for the internal pool `name`. */
function endpointsOf(proc: Proc, name: string): string[] {
  const prefix = `TEST ENDPOINTS ${name}=`
  const line = proc.lines.find((l) => l.startsWith(prefix))
  if (line === undefined) throw new Error(`no endpoints printed for ${name}:\n${proc.output}`)
  return JSON.parse(line.slice(prefix.length))
}

const pidsOf = (lines: string[], pattern: RegExp) =>
  lines.flatMap((line) => {
    const m = line.match(pattern)
    return m ? [Number(m[1])] : []
  })

describe.each(RUNTIMES)('serve() on %s', (runtime) => {
  it('describes the entry in a deployment process, runs onDeployment there once, and hooks in every worker', async () => {
    const proc = serve(runtime, { entry: './cpu-service.mjs', workers: 2 })
    const [, port, workers, supervisorPid] = await proc.waitFor(
      /^TEST READY port=(\d+) workers=(\d+) pid=(\d+)/
    )
    expect(Number(workers)).toBe(2)
    expect(proc.output).toMatch(
      /\[bento\] workers: 2 \(the test; the service says workers: "cpu_count"\) -> 2 workers/
    )
    const found = await findWorkers(Number(port), [1, 2])
    const workerPids = [...found.values()].map((w) => w.pid)

    const imported = pidsOf(proc.lines, /entry imported pid=(\d+)/)
    const deployed = pidsOf(proc.lines, /onDeployment ran pid=(\d+)/)
    expect(deployed).toHaveLength(1)
    // The entry was imported by the deployment process and by each worker, never the supervisor.
    expect(imported).not.toContain(Number(supervisorPid))
    expect(imported.sort()).toEqual([deployed[0]!, ...workerPids].sort())
    expect(workerPids).not.toContain(deployed[0])
    expect(proc.lines).toContainEqual(expect.stringMatching(/^\[deploy\] onDeployment ran/))
    // onDeployment ran before any worker started.
    const deployAt = proc.lines.findIndex((l) => /onDeployment ran/.test(l))
    const firstStartup = proc.lines.findIndex((l) => /onStartup ran/.test(l))
    expect(firstStartup).toBeGreaterThan(deployAt)
    expect(pidsOf(proc.lines, /onStartup ran worker=\d pid=(\d+)/).sort()).toEqual(
      [...workerPids].sort()
    )

    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
    expect(pidsOf(proc.lines, /onShutdown ran worker=\d pid=(\d+)/).sort()).toEqual(
      [...workerPids].sort()
    )
  })

  it("plans an app's pool from the services it serves and runs every service's hooks in every worker", async () => {
    const proc = serve(runtime, { entry: './app-entry.mjs' })
    const [, port, workers, , drain] = await proc.waitFor(
      /^TEST READY port=(\d+) workers=(\d+) pid=(\d+) drain=(\d+)/
    )
    // The largest of its services' worker counts, and the longest drain timeout.
    expect(Number(workers)).toBe(2)
    expect(Number(drain)).toBe(45)
    expect(proc.output).toMatch(/workers: the largest of small 1, large 2 -> 2/)
    await findWorkers(Number(port), [1, 2])
    for (const name of ['small', 'large']) {
      expect(proc.lines.filter((l) => l.includes(`${name}: onDeployment ran`))).toHaveLength(1)
      expect(pidsOf(proc.lines, new RegExp(`${name}: onStartup ran worker=(\\d)`)).sort()).toEqual([
        1, 2,
      ])
    }
    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
    for (const index of [1, 2]) {
      // Stopped in the reverse of the order they were started.
      const shutdowns = proc.lines
        .filter((l) => l.startsWith(`[worker ${index}]`) && /onShutdown ran/.test(l))
        .map((l) => l.match(/\] (\w+): onShutdown/)![1])
      expect(shutdowns).toEqual(['large', 'small'])
    }
  })

  it('rejects an entry that throws as it loads, before any worker starts', async () => {
    const proc = serve(runtime, { entry: './broken-entry.mjs' })
    expect((await proc.exited).code).toBe(1)
    expect(proc.output).toMatch(
      /TEST FAILED EntryError: could not load .*broken-entry\.mjs: the model file is missing/
    )
    expect(proc.output).not.toMatch(/starting \d+ \w+ workers/)
  })

  it("serves a graph's dependency on TCP ports that answer only the graph's own callers", async () => {
    const proc = serve(runtime, { entry: './graph-entry.mjs', transport: 'tcp' })
    const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
    const endpoints = endpointsOf(proc, 'back')
    expect(endpoints).toHaveLength(2)
    for (const endpoint of endpoints) {
      expect(endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      // Any local user can connect to a port of 127.0.0.1: without the graph's token, a 401.
      for (const headers of [{}, { 'bento-token': 'a-guess' }] as Record<string, string>[]) {
        const direct = await fetch(`${endpoint}/info`, { headers })
        expect(direct.status).toBe(401)
        expect((await direct.json()).error).toMatch(/a call needs the graph's bento-token header/)
      }
    }
    // front, a caller in the graph, gets through.
    const called = await fetch(`http://127.0.0.1:${port}/call?service=back&path=/info`)
    expect(called.status).toBe(200)
    expect([1, 2]).toContain((await called.json()).index)
    proc.signal('SIGTERM')
    expect((await proc.exited).code).toBe(0)
  })
})

describe("a graph's private sockets", () => {
  it('stay Unix sockets under a TMPDIR too long for them, closed to other users', async () => {
    const long = join(tmpdir(), `a-temporary-directory-${'whose-path-leaves-no-room-'.repeat(3)}`)
    mkdirSync(long, { recursive: true })
    const proc = serve('node', { entry: './graph-entry.mjs' }, { TMPDIR: long })
    try {
      const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
      const endpoints = endpointsOf(proc, 'back')
      expect(endpoints).toHaveLength(2)
      for (const endpoint of endpoints) {
        expect(endpoint).toMatch(/^unix:\/tmp\/bento-\w+\/back\/\d+\.1\.sock$/)
        expect(statSync(endpoint.slice(5)).isSocket()).toBe(true)
        // Another user (nobody) can't reach it: the directory is this user's alone.
        const other = spawnSync(
          process.execPath,
          [
            '-e',
            `require('node:net').connect(${JSON.stringify(endpoint.slice(5))}).on('connect', () => { console.log('connected'); process.exit(0) }).on('error', (e) => { console.log(e.code); process.exit(0) })`,
          ],
          { uid: 65534, gid: 65534, encoding: 'utf8', timeout: 10_000 }
        )
        expect(other.stdout.trim()).toBe('EACCES')
      }
      const called = await fetch(`http://127.0.0.1:${port}/call?service=back&path=/info`)
      expect(called.status).toBe(200)
      proc.signal('SIGTERM')
      expect((await proc.exited).code).toBe(0)
    } finally {
      rmSync(long, { recursive: true, force: true })
    }
  })
})

describe('Deno workers', () => {
  it('get the permissions bento needs, not --allow-all, and what the service adds', async () => {
    // In /tmp itself: Deno allows no write under /dev (where the run's scratch really is) short of
    // --allow-all.
    const dir = mkdtempSync('/tmp/bento-allow-')
    const file = join(dir, 'out.txt')
    try {
      // A bare --allow-write is everywhere (beside bento's own scoped one, Deno would read it as
      // that one only).
      for (const allow of [undefined, `--allow-write=${dir}`, '--allow-write']) {
        const proc = serve(
          'deno',
          { entry: './allow-entry.mjs' },
          allow === undefined ? {} : { FIXTURE_ALLOW: allow }
        )
        const [, port] = await proc.waitFor(/^TEST READY port=(\d+)/)
        const answer = await fetch(
          `http://127.0.0.1:${port}/write?path=${encodeURIComponent(file)}`
        )
        const { write, run } = await answer.json()
        // A worker writes nowhere but its sockets and starts no program, unless the service says.
        expect(write).toBe(allow === undefined ? 'NotCapable' : 'ok')
        expect(run).toBe('NotCapable')
        proc.signal('SIGTERM')
        expect((await proc.exited).code).toBe(0)
      }
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
