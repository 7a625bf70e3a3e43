import { chmodSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, inject, it, vi } from 'vitest'
import { parseListGpus, parseQueryGpu, parseVersion, probeNvidiaSmi } from './nvidia-smi.ts'

const MIB = 1024 * 1024

describe('parseQueryGpu', () => {
  it('reads each field, memory in MiB as bytes', () => {
    const text =
      '0, GPU-a, NVIDIA H100 80GB HBM3, 81559, 80535, 00000000:19:00.0, Disabled, 560.35.03\n' +
      '1, GPU-b, NVIDIA A100-SXM4-40GB, 40960, 0, 00000000:3B:00.0, Enabled, 560.35.03\n'
    expect(parseQueryGpu(text)).toStrictEqual([
      {
        index: 0,
        uuid: 'GPU-a',
        name: 'NVIDIA H100 80GB HBM3',
        memoryTotal: 81559 * MIB,
        memoryFree: 80535 * MIB,
        pciBusId: '00000000:19:00.0',
        migEnabled: false,
        driverVersion: '560.35.03',
      },
      {
        index: 1,
        uuid: 'GPU-b',
        name: 'NVIDIA A100-SXM4-40GB',
        memoryTotal: 40960 * MIB,
        memoryFree: 0,
        pciBusId: '00000000:3B:00.0',
        migEnabled: true,
        driverVersion: '560.35.03',
      },
    ])
  })

  it('keeps a name that contains the separator whole', () => {
    const [gpu] = parseQueryGpu('0, GPU-a, Odd, Name, 1, 1, 00000000:19:00.0, [N/A], 1.0\n')
    expect(gpu).toMatchObject({ name: 'Odd, Name', migEnabled: false })
  })

  it('gives no GPUs for empty output', () => {
    expect(parseQueryGpu('\n')).toStrictEqual([])
  })

  it.each([
    '0, GPU-a, H100, 81559, 80535, 00000000:19:00.0, Disabled',
    '0, GPU-a, H100, [N/A], 80535, 00000000:19:00.0, Disabled, 560.35.03',
    'x, GPU-a, H100, 81559, 80535, 00000000:19:00.0, Disabled, 560.35.03',
  ])('rejects %j', (line) => {
    expect(() => parseQueryGpu(line)).toThrow(`unexpected nvidia-smi --query-gpu line: "${line}"`)
  })
})

describe('parseListGpus', () => {
  it('collects the MIG devices under each GPU, in order', () => {
    const text = [
      'GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-a)',
      'GPU 1: NVIDIA H100 80GB HBM3 (UUID: GPU-b)',
      '  MIG 3g.40gb     Device  0: (UUID: MIG-b0)',
      '  MIG 3g.40gb     Device  1: (UUID: MIG-b2)',
      'GPU 2: NVIDIA A100-SXM4-40GB (UUID: GPU-c)',
      '  MIG 1g.5gb Device 0: (UUID: MIG-GPU-c/7/0)',
    ].join('\n')
    expect(parseListGpus(text)).toStrictEqual({
      'GPU-a': [],
      'GPU-b': ['MIG-b0', 'MIG-b2'],
      'GPU-c': ['MIG-GPU-c/7/0'],
    })
  })

  it('ignores lines it does not know', () => {
    expect(parseListGpus('No devices were found\n  MIG 1g (UUID: MIG-x)\n')).toStrictEqual({})
  })
})

describe('parseVersion', () => {
  it('reads the driver and CUDA versions', () => {
    const text =
      'NVIDIA-SMI version  : 560.35.03\nNVML version        : 560.35\nDRIVER version      : 560.35.03\nCUDA Version        : 12.6\n'
    expect(parseVersion(text)).toStrictEqual({
      driverVersion: '560.35.03',
      cudaDriverVersion: '12.6',
    })
  })

  it('gives null for what is not there', () => {
    expect(parseVersion('nvidia-smi: unknown option\n')).toStrictEqual({
      driverVersion: null,
      cudaDriverVersion: null,
    })
  })
})

// The inventory the fake nvidia-smi reports (test/fake-nvml/fake_devices.h), written out by hand.
function fakeGpu(index: number, migDevices: string[] | null) {
  return {
    index,
    uuid: `GPU-fa4e0000-0000-4000-8000-00000000000${index}`,
    name: 'NVIDIA H100 80GB HBM3',
    memoryTotal: 81559 * MIB,
    memoryFree: (81559 - 1024 * (index + 1)) * MIB,
    pciBusId: `00000000:${['19', '3B', '4C', '5D'][index]}:00.0`,
    mig: { enabled: migDevices !== null, devices: migDevices ?? [] },
  }
}

describe('probeNvidiaSmi', () => {
  const { nvidiaSmi } = inject('fakeNvml')
  afterEach(() => {
    vi.unstubAllEnvs()
  })

  // Wraps the fake in a script that logs each invocation's arguments.
  function loggingNvidiaSmi() {
    const dir = mkdtempSync(join(tmpdir(), 'bento-smi-'))
    const log = join(dir, 'calls')
    const script = join(dir, 'nvidia-smi')
    writeFileSync(script, `#!/bin/sh\necho "$*" >> '${log}'\nexec '${nvidiaSmi}' "$@"\n`)
    chmodSync(script, 0o755)
    return { script, calls: () => readFileSync(log, 'utf8').trim().split('\n') }
  }

  it('lists the GPUs with driver and CUDA versions', () => {
    vi.stubEnv('FAKE_NVML_DEVICES', '2')
    expect(probeNvidiaSmi(nvidiaSmi, 5000)).toStrictEqual({
      gpus: [fakeGpu(0, null), fakeGpu(1, null)],
      nvml: {
        loaded: false,
        library: null,
        driverVersion: '560.35.03',
        cudaDriverVersion: '12.6',
        error: null,
      },
    })
  })

  it('runs -L for MIG devices only when a GPU has MIG on', () => {
    const smi = loggingNvidiaSmi()
    vi.stubEnv('FAKE_NVML_DEVICES', '3')
    vi.stubEnv('FAKE_NVML_MIG', '1')
    const { gpus } = probeNvidiaSmi(smi.script, 5000)
    expect(gpus).toStrictEqual([
      fakeGpu(0, null),
      fakeGpu(1, [
        'MIG-fa4e0000-0000-4000-8000-000000010000',
        'MIG-fa4e0000-0000-4000-8000-000000010002',
      ]),
      fakeGpu(2, null),
    ])
    expect(smi.calls().map((args) => args.split(/[ =]/)[0])).toStrictEqual([
      '--query-gpu',
      '-L',
      '--version',
    ])

    vi.stubEnv('FAKE_NVML_MIG', '')
    const quiet = loggingNvidiaSmi()
    probeNvidiaSmi(quiet.script, 5000)
    expect(quiet.calls().map((args) => args.split(/[ =]/)[0])).toStrictEqual([
      '--query-gpu',
      '--version',
    ])
  })

  it('reports no GPUs, without an error, when nvidia-smi finds none', () => {
    vi.stubEnv('FAKE_NVML_DEVICES', '0')
    expect(probeNvidiaSmi(nvidiaSmi, 5000)).toStrictEqual({
      gpus: [],
      nvml: {
        loaded: false,
        library: null,
        driverVersion: '560.35.03',
        cudaDriverVersion: '12.6',
        error: null,
      },
    })
  })

  it('reports the exit code and first line of output when nvidia-smi fails', () => {
    vi.stubEnv('FAKE_NVML_INIT_ERROR', '9')
    const { gpus, nvml } = probeNvidiaSmi(nvidiaSmi, 5000)
    expect(gpus).toStrictEqual([])
    expect(nvml.error).toBe(
      `${nvidiaSmi} --query-gpu exited with code 9: NVIDIA-SMI has failed because it couldn't communicate with the NVIDIA driver. Make sure that the latest NVIDIA driver is installed and running.`
    )
    expect(nvml.driverVersion).toBeNull()
  })

  it('gives up after the timeout', () => {
    vi.stubEnv('FAKE_NVML_INIT_DELAY_MS', '5000')
    const started = Date.now()
    const { gpus, nvml } = probeNvidiaSmi(nvidiaSmi, 200)
    expect(Date.now() - started).toBeLessThan(2000)
    expect(gpus).toStrictEqual([])
    expect(nvml.error).toBe(`${nvidiaSmi} --query-gpu timed out after 200 ms`)
  })

  it('names a missing nvidia-smi', () => {
    expect(probeNvidiaSmi('/nonexistent/nvidia-smi', 5000).nvml.error).toBe(
      'nvidia-smi not found: /nonexistent/nvidia-smi'
    )
  })

  it('explains what it could not parse, keeping the versions already read', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bento-smi-'))
    const script = join(dir, 'nvidia-smi')
    writeFileSync(
      script,
      '#!/bin/sh\necho "0, GPU-a, H100, [N/A], 1, 00000000:19:00.0, Disabled, 1.2"\n'
    )
    chmodSync(script, 0o755)
    expect(probeNvidiaSmi(script, 5000)).toStrictEqual({
      gpus: [],
      nvml: {
        loaded: false,
        library: null,
        driverVersion: null,
        cudaDriverVersion: null,
        error:
          'unexpected nvidia-smi --query-gpu line: "0, GPU-a, H100, [N/A], 1, 00000000:19:00.0, Disabled, 1.2"',
      },
    })
  })
})
