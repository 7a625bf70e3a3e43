import { describe, expect, it } from 'vitest'
import { formatProbe } from './format.ts'
import type { ProbeResult } from './types.ts'

const result: ProbeResult = {
  cpu: {
    host: 8,
    affinity: 8,
    quota: 1.5,
    quotaSource: '/sys/fs/cgroup/cpu.max',
    cpuset: 8,
    cpusetSource: '/sys/fs/cgroup/cpuset.cpus.effective',
    effective: 1.5,
    cgroup: { version: 2, path: '/', dir: '/sys/fs/cgroup', hybrid: false },
  },
  memory: {
    limit: 512 * 1024 * 1024,
    limitSource: '/sys/fs/cgroup/memory.max',
    usage: 100 * 1024 * 1024,
    host: 32 * 1024 ** 3,
    cgroup: { version: 1, path: '/a', dir: '/sys/fs/cgroup/memory/a', hybrid: true },
  },
  gpus: [
    {
      index: 0,
      uuid: 'GPU-a',
      name: 'NVIDIA H100 80GB HBM3',
      memoryTotal: 81559 * 1024 * 1024,
      memoryFree: 80535 * 1024 * 1024,
      pciBusId: '00000000:19:00.0',
      mig: { enabled: true, devices: ['MIG-a0', 'MIG-a2'] },
    },
  ],
  nvml: {
    loaded: true,
    library: 'libnvidia-ml.so.1',
    driverVersion: '560.35.03',
    cudaDriverVersion: '12.6',
    error: null,
  },
  source: 'native',
  fallbackReason: null,
  gpuSource: 'nvml',
}

describe('formatProbe', () => {
  it('summarises every part', () => {
    expect(formatProbe(result)).toBe(
      [
        'cpu     1.5 effective (host 8, affinity 8, quota 1.5 from /sys/fs/cgroup/cpu.max, cpuset 8 from /sys/fs/cgroup/cpuset.cpus.effective)',
        '        cgroup v2 / at /sys/fs/cgroup',
        'memory  limit 512 MiB from /sys/fs/cgroup/memory.max, usage 100 MiB, host 32 GiB',
        '        cgroup v1 /a at /sys/fs/cgroup/memory/a (hybrid v1/v2)',
        'gpu 0   NVIDIA H100 80GB HBM3 GPU-a 79.6 GiB (78.6 GiB free), 00000000:19:00.0, MIG on (MIG-a0, MIG-a2)',
        'nvml    loaded libnvidia-ml.so.1, driver 560.35.03, CUDA 12.6',
        'source  native, GPUs from nvml',
      ].join('\n')
    )
  })

  it('says what is missing, and why the fallback answered', () => {
    const text = formatProbe({
      ...result,
      cpu: { ...result.cpu, quota: null, quotaSource: null, cpuset: null, cpusetSource: null },
      memory: {
        ...result.memory,
        limit: null,
        limitSource: null,
        usage: null,
        cgroup: { version: null, path: null, dir: null, hybrid: false },
      },
      gpus: [],
      nvml: { ...result.nvml, loaded: false, library: null, error: 'nvidia-smi not found: x' },
      source: 'fallback',
      fallbackReason: 'no addon\nsecond line',
      gpuSource: null,
    })
    expect(text).toContain('no quota, no cpuset)')
    expect(text).toContain('memory  no limit, usage unknown, host 32 GiB\n        no cgroup')
    expect(text).toContain('gpus    not known')
    expect(text).toContain(
      'nvml    not loaded, driver 560.35.03, CUDA 12.6; error: nvidia-smi not found: x'
    )
    expect(text).toContain('source  fallback (no addon\n        second line)')
  })
})
