// biome-ignore-all lint/suspicious/noExplicitAny: manifests are read back as plain data, deep paths and all
// `bento build` run for real: the build context becomes an image with podman (rootful, runc), and
// its Deployments run with `podman kube play`. No image can be pulled here, so the base image is
// made from this machine's own Node binary, the libraries it links, a static busybox for /bin/sh
// and an /etc/passwd with the unprivileged user the official image has. Everything podman keeps
// lives under a temporary --root, removed at the end. Pods are reached on 127.0.0.1 only.
import { execFileSync, spawnSync } from 'node:child_process'
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { parseAllDocuments, stringify } from 'yaml'
import { cliBin, repoRoot } from './support/bento.ts'

const podman = spawnSync('podman', ['--version'], { encoding: 'utf8' })
const busybox = spawnSync('busybox', ['true']).status === 0
const usable = podman.status === 0 && busybox && process.getuid?.() === 0
const reason = usable
  ? ''
  : 'podman, a static busybox and root are needed (.ci/run installs podman, runc and busybox-static)'

const BASE = 'localhost/bento-test-base:1'
let dir: string
let env: NodeJS.ProcessEnv

function pm(...args: string[]): string {
  const result = spawnSync(
    'podman',
    ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), ...args],
    { env, encoding: 'utf8', maxBuffer: 64 * 2 ** 20 }
  )
  if (result.status !== 0) {
    throw new Error(`podman ${args.join(' ')} exited ${result.status}: ${result.stderr}`)
  }
  return result.stdout
}

function bentoBuild(entry: string, out: string, image: string): void {
  execFileSync(
    process.execPath,
    [cliBin, 'build', entry, '--out', out, '--base', BASE, '--image', image],
    { cwd: repoRoot, encoding: 'utf8' }
  )
}

// The Deployment of a build's manifest for one service, as an object to adapt for podman.
function deploymentOf(out: string, file: string): Record<string, any> {
  const docs = parseAllDocuments(readFileSync(join(out, 'k8s', file), 'utf8')).map((d) => d.toJS())
  return docs.find((d) => d.kind === 'Deployment')
}

async function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const server = createServer().listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

async function until(url: string, seconds: number): Promise<Response> {
  const deadline = Date.now() + seconds * 1000
  let last = 'no answer'
  while (Date.now() < deadline) {
    try {
      const response = await fetch(url, { signal: AbortSignal.timeout(2000) })
      if (response.status === 200) return response
      last = `${response.status} ${await response.text()}`
    } catch (error) {
      last = String(error)
    }
    await new Promise((r) => setTimeout(r, 250))
  }
  throw new Error(`${url} was not 200 within ${seconds} s: ${last}`)
}

async function untilLogged(container: string, text: string, seconds: number): Promise<void> {
  const deadline = Date.now() + seconds * 1000
  while (!pm('logs', container).includes(text)) {
    if (Date.now() > deadline) throw new Error(`${container} did not log "${text}" in ${seconds} s`)
    await new Promise((r) => setTimeout(r, 250))
  }
}

// Stops a played pod as `kube down` would, and reports how its container ended.
function stopPod(pod: string, container: string, grace: number) {
  const started = Date.now()
  pm('pod', 'stop', '--time', String(grace), pod)
  const seconds = (Date.now() - started) / 1000
  const exitCode = Number(pm('inspect', container, '--format', '{{.State.ExitCode}}').trim())
  return { seconds, exitCode, logs: pm('logs', container) }
}

describe.skipIf(!usable)(`bento build, in podman ${reason}`, () => {
  beforeAll(() => {
    // Short: unix socket paths under it must stay short, and podman's own too.
    dir = mkdtempSync(join(tmpdir(), 'bpm-'))
    writeFileSync(
      join(dir, 'containers.conf'),
      [
        '[engine]',
        'runtime = "runc"', // crun refuses this machine's hybrid cgroups
        'cgroup_manager = "cgroupfs"',
        'events_logger = "file"',
        '[containers]',
        'default_ulimits = ["nofile=1024:1024", "nproc=1000:1000"]',
        '',
      ].join('\n')
    )
    env = { ...process.env, CONTAINERS_CONF: join(dir, 'containers.conf') }
    const base = join(dir, 'base')
    const node = realpathSync(process.execPath)
    for (const sub of ['usr/local/bin', 'bin', 'etc', 'tmp'])
      mkdirSync(join(base, sub), { recursive: true })
    copyFileSync(node, join(base, 'usr/local/bin/node'))
    chmodSync(join(base, 'usr/local/bin/node'), 0o755)
    // What Node links, and the rest of libc6 that the official image has (onnxruntime's addon
    // links librt).
    const linked = execFileSync('ldd', [node], { encoding: 'utf8' }).match(/\/\S+/g) ?? []
    const libc = dirname(linked.find((l) => l.includes('/libc.so'))!)
    const libraries = [...linked, ...['librt.so.1', 'libresolv.so.2'].map((l) => join(libc, l))]
    for (const library of libraries) {
      mkdirSync(join(base, dirname(library)), { recursive: true })
      copyFileSync(library, join(base, library))
    }
    const box = execFileSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).trim()
    copyFileSync(box, join(base, 'bin/busybox'))
    chmodSync(join(base, 'bin/busybox'), 0o755)
    for (const tool of ['sh', 'sleep', 'cat', 'ls']) symlinkSync('busybox', join(base, 'bin', tool))
    chmodSync(join(base, 'tmp'), 0o1777)
    writeFileSync(
      join(base, 'etc/passwd'),
      'root:x:0:0::/root:/bin/sh\nnode:x:1000:1000::/home/node:/bin/sh\n'
    )
    writeFileSync(join(base, 'etc/group'), 'root:x:0:\nnode:x:1000:\n')
    const tar = spawnSync('tar', ['-C', base, '-c', '.'], { maxBuffer: 1024 * 2 ** 20 })
    const imported = spawnSync(
      'podman',
      ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), 'import', '-', BASE],
      { env, input: tar.stdout, encoding: 'utf8' }
    )
    expect(imported.status, imported.stderr).toBe(0)
  }, 120_000)

  afterAll(() => {
    if (dir === undefined) return
    // Stops whatever a failed test left, unmounts the image layers, then removes the folder.
    spawnSync(
      'podman',
      [
        '--root',
        join(dir, 'root'),
        '--runroot',
        join(dir, 'run'),
        'pod',
        'rm',
        '--all',
        '--force',
        '--time',
        '0',
      ],
      { env }
    )
    spawnSync(
      'podman',
      ['--root', join(dir, 'root'), '--runroot', join(dir, 'run'), 'system', 'reset', '--force'],
      { env }
    )
    rmSync(dir, { recursive: true, force: true })
  }, 120_000)

  it('plans 2 workers from a 1.5-CPU limit, serves on the published port, and drains on stop', async () => {
    const out = join(dir, 'quota')
    bentoBuild('test/fixtures/build/quota', out, 'localhost/quota:test')
    pm('build', '--quiet', '--tag', 'localhost/quota:test', out)

    const deployment = deploymentOf(out, 'quota.yaml')
    const pod = deployment.spec.template.spec
    const container = pod.containers[0]
    expect(container.resources.limits.cpu).toBe('1500m')
    const port = await freePort()
    // podman 4.3's kube play has no --publish: the copy publishes the port on 127.0.0.1.
    container.ports = [{ ...container.ports[0], hostPort: port, hostIP: '127.0.0.1' }]
    deployment.spec.replicas = 1
    writeFileSync(join(out, 'play.yaml'), stringify(deployment))
    pm('kube', 'play', join(out, 'play.yaml'))
    const name = 'quota-pod-0-quota'

    await until(`http://127.0.0.1:${port}/readyz`, 60)
    // /readyz is 200 from the first ready worker on; the plan, from the container's CPU quota,
    // shows in the log at start.
    await untilLogged(name, 'all 2 workers ready', 30)
    expect(pm('exec', name, 'cat', '/sys/fs/cgroup/cpu/cpu.cfs_quota_us').trim()).toBe('150000')
    // The image runs `bento serve` through the CLI's image entry, without its toolchain.
    const held = pm('exec', name, 'ls', '/app/node_modules').split(/\s+/)
    expect(held).toContain('bento')
    for (const tool of ['esbuild', 'tsx', 'chokidar', 'commander', 'yaml', '@opentelemetry']) {
      expect(held).not.toContain(tool)
    }
    expect(pm('logs', name)).toContain('ceil(1.5) = 2 workers')
    expect(pm('exec', name, 'cat', '/proc/self/status')).toMatch(/^Uid:\s+1000\s/m)

    const answer = await fetch(`http://127.0.0.1:${port}/greet`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ name: 'pod' }),
    })
    expect(answer.status).toBe(200)
    expect((await answer.json()).message).toBe('Hello, pod!')

    const grace = pod.terminationGracePeriodSeconds
    const stopped = stopPod('quota-pod-0', name, grace)
    expect(stopped.exitCode).toBe(0)
    expect(stopped.seconds).toBeLessThan(grace)
    expect(stopped.logs).toContain('draining 2 workers')
    expect(stopped.logs).toContain('"msg":"stopped"')
    pm('kube', 'down', join(out, 'play.yaml'))
  }, 240_000)

  it('runs the composed example as one pod per service, the caller reaching the callee by BENTO_DEPENDS', async () => {
    const out = join(dir, 'pipeline')
    bentoBuild('examples/search-pipeline', out, 'localhost/pipeline:test')
    pm('build', '--quiet', '--tag', 'localhost/pipeline:test', out)
    const ports = { classifier: await freePort(), search: await freePort() }
    const played: string[] = []
    for (const service of ['classifier', 'search'] as const) {
      const deployment = deploymentOf(out, `${service}.yaml`)
      const pod = deployment.spec.template.spec
      const container = pod.containers[0]
      expect(container.args.slice(0, 2)).toEqual(['--service', service])
      // On the host's network (podman refuses port mappings there), each on a port of its own,
      // on 127.0.0.1; the caller's BENTO_DEPENDS names the callee's port instead of its Service.
      pod.hostNetwork = true
      delete container.ports
      for (const probe of ['startupProbe', 'livenessProbe', 'readinessProbe']) {
        container[probe].httpGet.port = ports[service]
      }
      const vars = new Map<string, string>(container.env.map((e: any) => [e.name, e.value]))
      if (service === 'search') {
        expect(vars.get('BENTO_DEPENDS')).toBe('classifier=http://classifier:3000')
        vars.set('BENTO_DEPENDS', `classifier=http://127.0.0.1:${ports.classifier}`)
      }
      vars.set('PORT', String(ports[service]))
      vars.set('HOST', '127.0.0.1')
      container.env = [...vars].map(([name, value]) => ({ name, value }))
      deployment.spec.replicas = 1
      const file = join(out, `play-${service}.yaml`)
      writeFileSync(file, stringify(deployment))
      pm('kube', 'play', file)
      played.push(file)
    }
    const ready = await until(`http://127.0.0.1:${ports.search}/readyz`, 90)
    expect((await ready.json()).dependencies).toEqual([{ service: 'classifier', ready: true }])
    const answer = await fetch(`http://127.0.0.1:${ports.search}/search`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ q: 'ramen sushi', limit: 3 }),
    })
    const body = await answer.json()
    expect(answer.status, JSON.stringify(body)).toBe(200)
    expect(body.hits.length).toBeGreaterThan(0)
    for (const hit of body.hits) expect(['positive', 'negative']).toContain(hit.label)
    // The callee answered from its own pod: its metrics count the calls.
    const metrics = await (await fetch(`http://127.0.0.1:${ports.classifier}/metrics`)).text()
    expect(metrics).toMatch(
      /bento_requests_total\{[^}]*service="classifier"[^}]*status="200"[^}]*\} [1-9]/
    )

    for (const service of ['search', 'classifier'] as const) {
      const grace = deploymentOf(out, `${service}.yaml`).spec.template.spec
        .terminationGracePeriodSeconds
      const stopped = stopPod(`${service}-pod-0`, `${service}-pod-0-${service}`, grace)
      expect(stopped.exitCode, stopped.logs).toBe(0)
      expect(stopped.seconds).toBeLessThan(grace)
    }
    for (const file of played) pm('kube', 'down', file)
  }, 300_000)
})
