// The packages really install from a registry: every public package is published to a local
// Verdaccio (on 127.0.0.1, storage in a temp dir, everything else proxied to the npm registry),
// then a fresh directory outside the repo with nothing but service.ts runs `npx bento dev` and
// `bunx bento dev` against that registry, and its API answers.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Bento, postJson, repoRoot } from './support/bento.ts'
import { stagePlatformPackage } from './support/platform.ts'
import { binaries } from './support/runtimes.ts'

const PUBLIC = [
  'native/npm/linux-x64-gnu',
  'native',
  'packages/core',
  'packages/hono',
  'packages/cli',
]
const temp = mkdtempSync(join(tmpdir(), 'bento-e2e-'))
let verdaccio: ChildProcess | undefined
let staging: string | undefined
let registry = ''
let npmrc = ''

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo
      server.close(() => resolve(port))
    })
  })
}

function upstream(): string {
  try {
    return (
      execFileSync('npm', ['config', 'get', 'registry'], { encoding: 'utf8' }).trim() ||
      'https://registry.npmjs.org/'
    )
  } catch {
    return 'https://registry.npmjs.org/'
  }
}

/** fetch on a fresh connection: Verdaccio closes idle keep-alive sockets early. */
function fetchFresh(url: string, init: RequestInit = {}): Promise<Response> {
  return fetch(url, {
    ...init,
    headers: { ...(init.headers as Record<string, string>), connection: 'close' },
  })
}

async function waitForRegistry(url: string): Promise<void> {
  for (let i = 0; i < 150; i++) {
    try {
      if ((await fetchFresh(`${url}-/ping`)).ok) return
    } catch {
      // Not listening yet.
    }
    await new Promise((resolve) => setTimeout(resolve, 200))
  }
  throw new Error('verdaccio did not start within 30 s')
}

beforeAll(async () => {
  const port = await freePort()
  registry = `http://127.0.0.1:${port}/`
  const config = join(temp, 'verdaccio.yaml')
  writeFileSync(
    config,
    [
      `storage: ${join(temp, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${join(temp, 'htpasswd')}`,
      'uplinks:',
      '  npmjs:',
      `    url: ${upstream()}`,
      '    timeout: 60s',
      'packages:',
      // Ours are served from here only: never from (or mixed with) a same-named public package.
      "  'bento':",
      '    access: $all',
      '    publish: $authenticated',
      "  '@bento/*':",
      '    access: $all',
      '    publish: $authenticated',
      "  '**':",
      '    access: $all',
      '    proxy: npmjs',
      'log: { type: stdout, format: pretty, level: warn }',
    ].join('\n')
  )
  verdaccio = spawn(
    join(repoRoot, 'node_modules/.bin/verdaccio'),
    ['--config', config, '--listen', `127.0.0.1:${port}`],
    {
      stdio: 'ignore',
      detached: true,
    }
  )
  await waitForRegistry(registry)
  const user = await fetchFresh(`${registry}-/user/org.couchdb.user:bento`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'bento', password: 'bento-e2e', email: 'e2e@bento.invalid' }),
  })
  const { token } = (await user.json()) as { token: string }
  npmrc = join(temp, 'npmrc')
  writeFileSync(npmrc, `registry=${registry}\n//127.0.0.1:${port}/:_authToken=${token}\n`)
  // The platform package carries the binary that `pnpm build` left in native/ (in a copy).
  const staged = stagePlatformPackage()
  staging = staged.dir
  for (const dir of PUBLIC) {
    // pnpm publish turns workspace: ranges into the real versions.
    execFileSync(
      join(repoRoot, 'node_modules/.bin/pnpm'),
      ['publish', '--no-git-checks', '--registry', registry],
      {
        cwd: dir === 'native/npm/linux-x64-gnu' ? staged.platform : join(repoRoot, dir),
        stdio: 'pipe',
        env: { ...process.env, npm_config_userconfig: npmrc },
      }
    )
  }
}, 180_000)

afterAll(() => {
  if (verdaccio?.pid) {
    try {
      process.kill(-verdaccio.pid, 'SIGKILL')
    } catch {
      // Already gone.
    }
  }
  rmSync(temp, { recursive: true, force: true })
  if (staging) rmSync(staging, { recursive: true, force: true })
})

/** A directory outside the repo holding nothing but a service file. */
function emptyProject(specifier = 'bento'): string {
  const dir = mkdtempSync(join(temp, 'project-'))
  writeFileSync(
    join(dir, 'service.ts'),
    `import { api, service } from '${specifier}'

export default service({
  name: 'e2e',
  apis: {
    shout: api({ handler: (input: { text: string }, ctx) => ({ text: input.text.toUpperCase(), worker: ctx.workerIndex }) }),
  },
})
`
  )
  return dir
}

/** Starts a command in its own process group and reads the URL the bento banner prints. */
function run(command: string[], cwd: string, env: Record<string, string>): Bento {
  return new Bento(command, { cwd, env })
}

describe('published packages', () => {
  it('lists every public package in the registry', async () => {
    for (const dir of PUBLIC) {
      const { name, version } = JSON.parse(
        readFileSync(join(repoRoot, dir, 'package.json'), 'utf8')
      )
      const response = await fetchFresh(`${registry}${name.replace('/', '%2f')}`)
      expect(response.status, name).toBe(200)
      const meta = (await response.json()) as {
        versions: Record<string, { dependencies?: Record<string, string> }>
      }
      const published = meta.versions[version]
      expect(published, `${name}@${version}`).toBeDefined()
      for (const range of Object.values(published?.dependencies ?? {}))
        expect(range).not.toMatch(/^workspace:/)
    }
  })

  it('runs `npx bento dev` in an empty directory', async () => {
    const cwd = emptyProject()
    const bento = run(['npx', '--yes', 'bento@0.0.0', 'dev', '--port', '0'], cwd, {
      npm_config_userconfig: npmrc,
      npm_config_registry: registry,
      // A cache of its own: the packages must come from the registry, not from an earlier run.
      npm_config_cache: mkdtempSync(join(temp, 'npm-cache-')),
    })
    const url = await bento.url(150_000)
    const { status, body } = await postJson(`${url}/shout`, { text: 'hello' })
    expect(status).toBe(200)
    expect(body).toEqual({ text: 'HELLO', worker: 1 })
    await bento.kill()
  }, 200_000)

  it('runs `bunx bento dev` in an empty directory', async () => {
    const cwd = emptyProject()
    const bento = run([binaries.bun, 'x', 'bento@0.0.0', 'dev', '--port', '0'], cwd, {
      NPM_CONFIG_REGISTRY: registry,
      BUN_CONFIG_REGISTRY: registry,
      BUN_INSTALL_CACHE_DIR: mkdtempSync(join(temp, 'bun-cache-')),
    })
    const url = await bento.url(150_000)
    const { status, body } = await postJson(`${url}/shout`, { text: 'from bun' })
    expect(status).toBe(200)
    expect(body).toEqual({ text: 'FROM BUN', worker: 1 })
    await bento.kill()
  }, 200_000)

  it('runs `deno run -A npm:bento dev` with a service that imports npm:bento', async () => {
    const cwd = emptyProject('npm:bento@0.0.0')
    // The workers resolve npm:bento too; Deno holds back versions under a day old unless told.
    writeFileSync(join(cwd, 'deno.json'), JSON.stringify({ minimumDependencyAge: 0 }))
    const bento = run(
      [
        binaries.deno,
        'run',
        '-A',
        // Deno refuses npm versions younger than 24 hours by default; this one was just published.
        '--minimum-dependency-age=0',
        'npm:bento@0.0.0',
        'dev',
        '--port',
        '0',
      ],
      cwd,
      {
        NPM_CONFIG_REGISTRY: registry,
        DENO_DIR: mkdtempSync(join(temp, 'deno-dir-')),
      }
    )
    const url = await bento.url(150_000)
    const { status, body } = await postJson(`${url}/shout`, { text: 'from deno' })
    expect(status).toBe(200)
    expect(body).toEqual({ text: 'FROM DENO', worker: 1 })
    await bento.kill()
  }, 200_000)
})
