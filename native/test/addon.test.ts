// The native addon, loaded through index.cjs in child processes (fresh NVML state and
// environment per case), against the fake NVML library and the real machine.
import { spawnSync } from 'node:child_process'
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  realpathSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { cpus, tmpdir, totalmem } from 'node:os'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { afterAll, describe, expect, expectTypeOf, inject, it } from 'vitest'
import type { NativeProbeResult as Declared, NativeProbeOptions } from '../index.d.cts'
import type { NativeProbeResult, ProbeOptions } from '../lib/types.ts'

const here = dirname(fileURLToPath(import.meta.url))
const native = dirname(here)
const child = join(here, 'probe-child.mjs')
const bin = join(native, '..', 'node_modules', '.bin')
const { library } = inject('fakeNvml')

const MIB = 2 ** 20
const TOTAL = 81559 * MIB
const scratch = mkdtempSync(join(tmpdir(), 'bento-addon-test-'))
afterAll(() => rmSync(scratch, { recursive: true, force: true }))

type Step =
  | { probe: unknown[] }
  | { env: Record<string, string | null> }
  | { write: [string, string] }
  | { sleep: number }
type Outcome =
  | { result: NativeProbeResult; ms: number }
  | { error: { name: string; message: string } }

/** Runs `steps` in a fresh process of `runtime` with `env` on top of a clean environment. */
function run(steps: Step[], env: Record<string, string> = {}, runtime = [process.execPath]) {
  const clean = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !/^(BENTO_NVML_|FAKE_NVML_)/.test(name))
  )
  const [command, ...args] = runtime
  const started = performance.now()
  const out = spawnSync(command!, [...args, child, JSON.stringify(steps)], {
    env: { ...clean, ...env },
    encoding: 'utf8',
    timeout: 20_000,
  })
  const wallMs = performance.now() - started
  if (out.status !== 0) throw new Error(`child failed (${out.status}): ${out.stderr}`)
  const { version, outcomes } = JSON.parse(out.stdout) as { version: string; outcomes: Outcome[] }
  return { version, outcomes, wallMs }
}

function result(outcome: Outcome | undefined): NativeProbeResult & { ms: number } {
  if (!outcome || !('result' in outcome))
    throw new Error(`expected a result: ${JSON.stringify(outcome)}`)
  return { ...outcome.result, ms: outcome.ms }
}

function error(outcome: Outcome | undefined) {
  if (!outcome || !('error' in outcome))
    throw new Error(`expected an error: ${JSON.stringify(outcome)}`)
  return outcome.error
}

/** One probe with the fake NVML in a fresh process. */
function probeFake(env: Record<string, string>, options: Record<string, unknown> = {}) {
  return result(run([{ probe: [{ nvmlLibrary: library, ...options }] }], env).outcomes[0])
}

/** Counts a kernel CPU list such as `0-3,8` (5). */
function countCpuList(list: string) {
  return list
    .trim()
    .split(',')
    .map((part) => part.split('-').map(Number))
    .reduce((count, [first, last]) => count + (last ?? first!) - first! + 1, 0)
}

function fakeGpu(index: number, busId: string) {
  return {
    index,
    uuid: `GPU-fa4e0000-0000-4000-8000-00000000000${index}`,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotal: TOTAL,
    memoryFree: TOTAL - 1024 * (index + 1) * MIB,
    pciBusId: `00000000:${busId}:00.0`,
    mig: { enabled: false, devices: [] },
  }
}

describe('index.d.cts', () => {
  it('declares the result and options of lib/types.ts', () => {
    // Checked by `tsc` (pnpm typecheck); the runtime half only proves the file is in place.
    expectTypeOf<Declared>().toEqualTypeOf<NativeProbeResult>()
    expectTypeOf<NativeProbeOptions>().toEqualTypeOf<
      Pick<ProbeOptions, 'root' | 'gpu' | 'nvmlLibrary' | 'nvmlTimeoutMs'>
    >()
    expect(readFileSync(join(native, 'index.d.cts'), 'utf8')).toContain('export function probe(')
  })
})

describe('the NVML inventory', () => {
  it.each([0, 1, 2])('lists %i GPUs', (count) => {
    const probed = probeFake({ FAKE_NVML_DEVICES: String(count) })
    expect(probed.gpus).toEqual([fakeGpu(0, '19'), fakeGpu(1, '3B')].slice(0, count))
    expect(probed.nvml).toEqual({
      loaded: true,
      library,
      driverVersion: '560.35.03',
      cudaDriverVersion: '12.6',
      error: null,
    })
  })

  it('lists the MIG devices of a GPU in MIG mode, skipping empty slots', () => {
    const probed = probeFake({ FAKE_NVML_DEVICES: '2', FAKE_NVML_MIG: '1' })
    expect(probed.gpus[0]?.mig).toEqual({ enabled: false, devices: [] })
    expect(probed.gpus[1]?.mig).toEqual({
      enabled: true,
      devices: [
        'MIG-fa4e0000-0000-4000-8000-000000010000',
        'MIG-fa4e0000-0000-4000-8000-000000010002',
      ],
    })
  })

  it.each([
    ['9', 'nvmlInit_v2 failed: Driver Not Loaded (9)'],
    ['18', 'nvmlInit_v2 failed: RM has detected an NVML/RM version mismatch. (18)'],
  ])("reports nvmlInit_v2 error %s with NVML's message", (code, message) => {
    const probed = probeFake({ FAKE_NVML_INIT_ERROR: code })
    expect(probed.gpus).toEqual([])
    expect(probed.nvml).toEqual({
      loaded: false,
      library,
      driverVersion: null,
      cudaDriverVersion: null,
      error: message,
    })
  })

  it('retries a failed nvmlInit_v2 on the next call', () => {
    const { outcomes } = run(
      [
        { probe: [{ nvmlLibrary: library }] },
        { env: { FAKE_NVML_INIT_ERROR: null } },
        { probe: [{ nvmlLibrary: library }] },
      ],
      { FAKE_NVML_INIT_ERROR: '9' }
    )
    expect(result(outcomes[0]).nvml.error).toBe('nvmlInit_v2 failed: Driver Not Loaded (9)')
    expect(result(outcomes[1]).nvml).toMatchObject({ loaded: true, error: null })
    expect(result(outcomes[1]).gpus).toHaveLength(2)
  })

  it('reports a library that cannot be opened', () => {
    const missing = join(scratch, 'no-such-dir', 'libnvidia-ml.so.1')
    const probed = result(run([{ probe: [{ nvmlLibrary: missing }] }]).outcomes[0])
    expect(probed.gpus).toEqual([])
    expect(probed.nvml.loaded).toBe(false)
    expect(probed.nvml.library).toBe(missing)
    expect(probed.nvml.error).toMatch(
      new RegExp(`^cannot open ${missing}: .*cannot open shared object file`)
    )
  })

  it('names a missing NVML symbol', () => {
    const probed = probeFake({}, { nvmlLibrary: 'libc.so.6' })
    expect(probed.nvml.error).toBe('nvmlInit_v2 not found in libc.so.6')
  })

  it('takes the library and timeout from the environment, and libnvidia-ml.so.1 by default', () => {
    const fromEnv = result(run([{ probe: [] }], { BENTO_NVML_LIBRARY: library }).outcomes[0])
    expect(fromEnv.nvml.library).toBe(library)
    expect(fromEnv.gpus).toHaveLength(2)
    const slow = { BENTO_NVML_LIBRARY: library, FAKE_NVML_INIT_DELAY_MS: '2000' }
    const timedOut = result(
      run([{ probe: [] }], { ...slow, BENTO_NVML_TIMEOUT_MS: '150' }).outcomes[0]
    )
    expect(timedOut.nvml.error).toBe('NVML did not answer within 150 ms')
    // Whether a real driver answers depends on the machine; the library tried does not.
    expect(result(run([{ probe: [] }]).outcomes[0]).nvml.library).toBe('libnvidia-ml.so.1')
  })

  it('gives up on a hung nvmlInit_v2 and answers at once while it is still stuck', () => {
    const probe = { probe: [{ nvmlLibrary: library, nvmlTimeoutMs: 200 }] }
    const { outcomes, wallMs } = run([probe, probe], { FAKE_NVML_INIT_DELAY_MS: '3000' })
    const [first, second] = [result(outcomes[0]), result(outcomes[1])]
    for (const probed of [first, second]) {
      expect(probed.gpus).toEqual([])
      expect(probed.nvml).toMatchObject({
        loaded: false,
        error: 'NVML did not answer within 200 ms',
      })
    }
    expect(first.ms).toBeGreaterThanOrEqual(195)
    expect(first.ms).toBeLessThan(1500)
    expect(second.ms).toBeLessThan(50)
    // The process exits without waiting for the stuck thread.
    expect(wallMs).toBeLessThan(2900)
  })

  it('uses an initialisation that finished after its caller timed out', () => {
    const probe = { probe: [{ nvmlLibrary: library, nvmlTimeoutMs: 100 }] }
    const { outcomes } = run([probe, { sleep: 700 }, probe], { FAKE_NVML_INIT_DELAY_MS: '400' })
    expect(result(outcomes[0]).nvml.error).toBe('NVML did not answer within 100 ms')
    expect(result(outcomes[1]).nvml).toMatchObject({ loaded: true, error: null })
    expect(result(outcomes[1]).gpus).toHaveLength(2)
  })

  it('reads GPU memory afresh on every call', () => {
    const used = join(scratch, 'used-mib')
    const probe = { probe: [{ nvmlLibrary: library }] }
    const { outcomes } = run([{ write: [used, '1000'] }, probe, { write: [used, '3000'] }, probe], {
      FAKE_NVML_USED_MIB_FILE: used,
    })
    expect(result(outcomes[0]).gpus[0]?.memoryFree).toBe(TOTAL - 1000 * MIB)
    expect(result(outcomes[1]).gpus[0]?.memoryFree).toBe(TOTAL - 3000 * MIB)
  })

  it('skips NVML when gpu is false', () => {
    const probed = result(
      run([{ probe: [{ gpu: false }] }], { BENTO_NVML_LIBRARY: library }).outcomes[0]
    )
    expect(probed.gpus).toEqual([])
    expect(probed.nvml).toEqual({
      loaded: false,
      library: null,
      driverVersion: null,
      cudaDriverVersion: null,
      error: null,
    })
  })
})

describe('options', () => {
  it('rejects options of the wrong type, naming the option', () => {
    const bad = [
      ['x'],
      [{ root: 1 }],
      [{ gpu: 'yes' }],
      [{ nvmlLibrary: 5 }],
      [{ nvmlTimeoutMs: '5' }],
      [{ nvmlTimeoutMs: -1 }],
    ]
    const { outcomes } = run([...bad.map((args) => ({ probe: args })), { probe: [null] }])
    expect(outcomes.slice(0, 6).map(error)).toEqual([
      { name: 'TypeError', message: 'probe(options): options must be an object' },
      { name: 'TypeError', message: 'probe(options): options.root must be a string' },
      { name: 'TypeError', message: 'probe(options): options.gpu must be a boolean' },
      { name: 'TypeError', message: 'probe(options): options.nvmlLibrary must be a string' },
      { name: 'TypeError', message: 'probe(options): options.nvmlTimeoutMs must be a number' },
      {
        name: 'RangeError',
        message: 'probe(options): options.nvmlTimeoutMs must be a finite number >= 0',
      },
    ])
    expect(result(outcomes[6]).cpu.host).toBeGreaterThanOrEqual(1)
  })

  it('reads a fixture tree under root and reports paths without it', () => {
    const root = mkdtempSync(join(scratch, 'root-'))
    const files: Record<string, string> = {
      'sys/devices/system/cpu/online': '0-7\n',
      'proc/self/status': 'Name:\tnode\nCpus_allowed_list:\t0-3\n',
      'proc/meminfo': 'MemTotal:       2048 kB\n',
      'proc/self/cgroup': '0::/app\n',
      'proc/self/mountinfo': '25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n',
      'sys/fs/cgroup/app/cpu.max': '150000 100000\n',
      'sys/fs/cgroup/app/cpuset.cpus.effective': '0-1\n',
      'sys/fs/cgroup/app/memory.max': 'max\n',
      'sys/fs/cgroup/app/memory.current': '4096\n',
      'sys/fs/cgroup/memory.max': '1048576\n',
    }
    for (const [file, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, file)), { recursive: true })
      writeFileSync(join(root, file), text)
    }
    const probed = result(run([{ probe: [{ root: `${root}/`, gpu: false }] }]).outcomes[0])
    const cgroup = { version: 2, path: '/app', dir: '/sys/fs/cgroup/app', hybrid: false }
    expect(probed.cpu).toEqual({
      host: 8,
      affinity: 4,
      quota: 1.5,
      quotaSource: '/sys/fs/cgroup/app/cpu.max',
      cpuset: 2,
      cpusetSource: '/sys/fs/cgroup/app/cpuset.cpus.effective',
      effective: 1.5,
      cgroup,
    })
    expect(probed.memory).toEqual({
      limit: 1048576,
      limitSource: '/sys/fs/cgroup/memory.max',
      usage: 4096,
      host: 2048 * 1024,
      cgroup,
    })
  })
})

describe('this machine', () => {
  /** The controller's entry in /proc/self/cgroup (children share the test's cgroups). */
  function entry(controller: string) {
    const lines = readFileSync('/proc/self/cgroup', 'utf8').trim().split('\n')
    const fields = lines.map((line) => line.split(':'))
    const v1 = fields.find(([, list]) => list?.split(',').includes(controller))
    if (v1) return { version: 1, path: v1.slice(2).join(':') }
    const v2 = fields.find(([id, list]) => id === '0' && list === '')
    return { version: 2, path: v2?.slice(2).join(':') }
  }

  it('answers sane CPU and memory figures', () => {
    const probed = result(run([{ probe: [{ gpu: false }] }]).outcomes[0])
    const { cpu, memory } = probed
    expect(cpu.host).toBe(cpus().length)
    // The kernel's own rendering of the affinity mask (libuv's availableParallelism() may also
    // apply a cgroup quota, depending on its version).
    const allowed = /^Cpus_allowed_list:\s*(.+)$/m.exec(readFileSync('/proc/self/status', 'utf8'))
    expect(cpu.affinity).toBe(countCpuList(allowed![1]!))
    expect(cpu.effective).toBeGreaterThan(0)
    expect(cpu.effective).toBeLessThanOrEqual(Math.min(cpu.host, cpu.affinity))
    expect(memory.host).toBe(totalmem())
    for (const [info, controller] of [
      [cpu.cgroup, 'cpu'],
      [memory.cgroup, 'memory'],
    ] as const) {
      expect({ version: info.version, path: info.path }).toEqual(entry(controller))
      expect(existsSync(info.dir!), `${info.dir} exists`).toBe(true)
    }
    expect(memory.usage).toBeGreaterThan(0)
  })

  it('answers the same again from kept files', () => {
    const { outcomes } = run([{ probe: [{ gpu: false }] }, { probe: [{ gpu: false }] }])
    const [first, second] = [result(outcomes[0]), result(outcomes[1])]
    expect(second.cpu).toEqual(first.cpu)
    expect(second.memory.cgroup).toEqual(first.memory.cgroup)
    expect(second.memory.limit).toBe(first.memory.limit)
  })
})

describe('the loader', () => {
  const cargo = readFileSync(join(native, 'Cargo.toml'), 'utf8')
  const crateVersion = /^version = "(.+)"$/m.exec(cargo)?.[1]

  it.each([
    ['Bun', [join(bin, 'bun')]],
    ['Deno', [join(bin, 'deno'), 'run', '--allow-all']],
  ])('loads under %s from ESM through createRequire', (_name, runtime) => {
    const { version, outcomes } = run([{ probe: [{ gpu: false }] }], {}, runtime)
    expect(version).toBe(crateVersion)
    expect(result(outcomes[0]).cpu.host).toBe(cpus().length)
  })

  it('exports the crate version under Node', () => {
    expect(run([]).version).toBe(crateVersion)
  })

  it('lists every attempt when no binary loads', () => {
    // Its real path: Node names a module's folder so, and the run's scratch may be a link.
    const lonely = realpathSync(mkdtempSync(join(scratch, 'loader-')))
    copyFileSync(join(native, 'index.cjs'), join(lonely, 'index.cjs'))
    const out = spawnSync(
      process.execPath,
      ['-e', `require(${JSON.stringify(join(lonely, 'index.cjs'))})`],
      // Without NODE_PATH (pnpm's runner sets one) nothing can resolve the platform package.
      { encoding: 'utf8', env: { ...process.env, NODE_PATH: '' } }
    )
    expect(out.status).not.toBe(0)
    expect(out.stderr).toContain('Cannot load the @bento/native addon for linux-x64-gnu on Node.js')
    expect(out.stderr).toContain(`${join(lonely, 'bento-native.linux-x64-gnu.node')}: not found`)
    expect(out.stderr).toContain('@bento/native-linux-x64-gnu: not installed')
  })

  it('tells Deno users to allow FFI', () => {
    const out = spawnSync(join(bin, 'deno'), ['run', '--allow-read', '--allow-env', child, '[]'], {
      encoding: 'utf8',
      env: { ...process.env, NO_COLOR: '1' },
    })
    expect(out.status).not.toBe(0)
    expect(out.stderr).toMatch(/bento-native\.linux-x64-gnu\.node: .*--allow-ffi/)
  })
})
