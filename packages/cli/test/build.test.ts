// `bento build` on every example: what it writes, its manifests against the real schemas, and the
// built app served from the build folder alone (outside the repository, nothing else installed)
// on each runtime, as the image's entrypoint runs it.
import {
  existsSync,
  lstatSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  writeFileSync,
} from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it, onTestFinished } from 'vitest'
import { parseAllDocuments } from 'yaml'
import { Bento, repoRoot, runtimeCommand, startBento } from '../../../test/support/bento.ts'
import { startReceiver } from '../../../test/support/otlp.ts'
import { validateObject } from './kube.ts'
import { project } from './project.ts'

const out = mkdtempSync(join(tmpdir(), 'bento-build-'))
// Each build holds a copy of its production dependencies (tens of MB with onnxruntime): each test
// removes its own as it ends, so no one hook has to delete them all on a disk other files are
// writing to as well.
afterAll(() => rm(out, { recursive: true, force: true }), 120_000)

/** A folder for one build, removed when the test ends. */
function buildDir(name: string): string {
  const dir = join(out, name)
  onTestFinished(() => rm(dir, { recursive: true, force: true }))
  return dir
}

// The bytes of the files under `dir`, as an image layer would hold them.
function treeBytes(dir: string): number {
  let total = 0
  for (const entry of readdirSync(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) total += lstatSync(join(entry.parentPath, entry.name)).size
  }
  return total
}

async function build(args: string[], cwd = repoRoot) {
  const bento = startBento('node', ['build', ...args], { cwd })
  const { code } = await bento.exited
  return { code, output: bento.output }
}

describe('bento build', () => {
  it.each([
    ['hello', ['hello']],
    ['onnx-classifier', ['onnx-classifier']],
    ['gpu-per-worker', ['gpu-per-worker']],
    ['mount-into-hono/app.ts', ['example-mount-into-hono']],
    ['search-pipeline', ['classifier', 'search']],
  ])(
    'builds examples/%s: context, Containerfile and valid manifests',
    async (example, names) => {
      const dir = buildDir(example.split('/')[0]!)
      const { code, output } = await build([
        `examples/${example}`,
        '--out',
        dir,
        '--image',
        `registry.example.com/${example}:1.0`,
        '--autoscale',
        'keda',
        '--json',
      ])
      expect(code, output).toBe(0)
      const result = JSON.parse(output)
      expect(result.services.map((s: { name: string }) => s.name)).toEqual(names)
      expect(existsSync(join(dir, 'app', 'bento-entry.mjs'))).toBe(true)
      expect(existsSync(join(dir, 'app', 'node_modules', 'bento', 'dist', 'image.js'))).toBe(true)
      expect(
        existsSync(join(dir, 'app/node_modules/@bento/native/bento-native.linux-x64-gnu.node'))
      ).toBe(true)
      const containerfile = readFileSync(join(dir, 'Containerfile'), 'utf8')
      expect(containerfile).toContain('USER 1000:1000')
      expect(containerfile).toContain('STOPSIGNAL SIGTERM')
      expect(containerfile).toContain(
        'ENTRYPOINT ["node","/app/node_modules/bento/dist/image.js","/app/bento-entry.mjs"]'
      )
      // A GPU service builds on CUDA, with the runtime's binary copied in from its official image.
      if (example === 'gpu-per-worker') expect(containerfile).toMatch(/FROM .*nvidia\/cuda/)
      else expect(containerfile).toMatch(/^FROM docker\.io\/library\/node:20/m)
      const files = readdirSync(join(dir, 'k8s')).sort()
      expect(files).toEqual([...names.map((n) => `${n}.yaml`), 'kustomization.yaml'].sort())
      for (const file of files.filter((f) => f !== 'kustomization.yaml')) {
        const docs = parseAllDocuments(readFileSync(join(dir, 'k8s', file), 'utf8'))
        for (const doc of docs) {
          expect(doc.errors).toEqual([])
          const object = doc.toJS()
          expect(() => validateObject(object), file).not.toThrow()
          if (object.kind === 'Deployment') {
            expect(object.spec.template.spec.containers[0].image).toBe(
              `registry.example.com/${example}:1.0`
            )
          }
        }
        // A service's envs come first, in a ConfigMap; a service only others call (all but the
        // entry, which is last) answers them alone, by a NetworkPolicy.
        const kinds = docs.map((d) => d.toJS().kind)
        const entry = file === `${names.at(-1)}.yaml`
        expect(kinds).toEqual([
          ...(kinds[0] === 'ConfigMap' ? ['ConfigMap'] : []),
          'Deployment',
          'Service',
          'PodDisruptionBudget',
          'ScaledObject',
          ...(entry ? [] : ['NetworkPolicy']),
        ])
      }
    },
    60_000
  )

  it.each(['node', 'bun', 'deno'] as const)(
    'serves the built hello from the build folder alone on %s, traced to OTLP, with no toolchain',
    async (runtime) => {
      const dir = buildDir(`hello-${runtime}`)
      const { code, output } = await build(['examples/hello', '--out', dir, '--runtime', runtime])
      expect(code, output).toBe(0)
      const app = join(dir, 'app')
      // The CLI's toolchain stays out, and OpenTelemetry is @bento/core's one bundled file.
      const cli = JSON.parse(readFileSync(join(repoRoot, 'packages/cli/package.json'), 'utf8'))
      const held = readdirSync(join(app, 'node_modules'))
      for (const name of [...cli.bento.toolchain, '@esbuild', '@opentelemetry']) {
        expect(held).not.toContain(name)
      }
      expect(existsSync(join(app, 'node_modules/@bento/core/dist/telemetry/otel-sdk.js'))).toBe(
        true
      )
      const bytes = treeBytes(app)
      expect(bytes, `app/ holds ${(bytes / 2 ** 20).toFixed(1)} MiB`).toBeLessThan(20 * 2 ** 20)
      const otlp = await startReceiver()
      const containerfile = readFileSync(join(dir, 'Containerfile'), 'utf8')
      const entrypoint: string[] = JSON.parse(containerfile.match(/^ENTRYPOINT (.*)$/m)![1]!)
      expect(entrypoint[0]).toBe(runtime)
      // The image's entrypoint, with this machine's binary and the build folder for /app.
      const command = [
        ...runtimeCommand[runtime].slice(0, 1),
        ...entrypoint.slice(1).map((arg) => arg.replace(/^\/app\//, `${app}/`)),
        '--port',
        '0',
        '--host',
        '127.0.0.1',
        '--workers',
        '2',
      ]
      const bento = new Bento(command, {
        cwd: app,
        env: {
          NODE_ENV: 'production',
          OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url,
          OTEL_BSP_SCHEDULE_DELAY: '100',
          OTEL_METRICS_EXPORTER: 'none',
        },
      })
      const url = await bento.url()
      const response = await fetch(`${url}/greet`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ name: runtime }),
      })
      expect(response.status).toBe(200)
      expect((await response.json()).message).toBe(`Hello, ${runtime}!`)
      await otlp.until(() => otlp.spans.some((s) => s.attributes['http.route'] === '/greet'))
      expect(otlp.rejected).toEqual([])
      expect((await bento.stop()).code).toBe(0)
    },
    60_000
  )

  it('writes nothing for a service whose definition is wrong', async () => {
    const cwd = project({
      'service.ts':
        "import { service } from '@bento/core'\nexport default service({ name: 'x', deploy: { replicas: 0 }, apis: {} })\n",
    })
    const { code, output } = await build(['service.ts', '--out', 'build'], cwd)
    expect(code).toBe(1)
    expect(output).toContain('deploy.replicas')
    expect(existsSync(join(cwd, 'build'))).toBe(false)
  })

  it('lets a build that failed halfway be run again into the same folder', async () => {
    // It fails after copying the code: the package does not list bento.
    const cwd = project({
      'package.json': '{ "type": "module" }',
      'service.ts':
        "import { service } from '@bento/core'\nexport default service({ name: 'x', apis: {} })\n",
    })
    for (const attempt of [1, 2]) {
      const failed = await build(['service.ts', '--out', 'build'], cwd)
      expect(failed.code, `attempt ${attempt}`).toBe(1)
      expect(failed.output).toContain('does not depend on bento')
    }
  })

  it('refuses an --out folder that holds something else, and replaces an earlier build', async () => {
    const cwd = project({ 'mine/notes.txt': 'keep me' })
    const refused = await build([join(repoRoot, 'examples/hello'), '--out', 'mine'], cwd)
    expect(refused.code).toBe(1)
    expect(refused.output).toContain('holds files that are not an earlier bento build')
    expect(readFileSync(join(cwd, 'mine/notes.txt'), 'utf8')).toBe('keep me')
    const first = await build([join(repoRoot, 'examples/hello'), '--out', 'build'], cwd)
    expect(first.code, first.output).toBe(0)
    writeFileSync(join(cwd, 'build', 'stale.txt'), '')
    const again = await build([join(repoRoot, 'examples/hello'), '--out', 'build'], cwd)
    expect(again.code, again.output).toBe(0)
    expect(existsSync(join(cwd, 'build', 'stale.txt'))).toBe(false)
  }, 60_000)
})
