import { describe, expect, it } from 'vitest'
import { fakeProbe, gpu, probeFixture } from '../../test/probes.ts'
import { BentoConfigError } from '../errors.ts'
import { api } from '../service/apis.ts'
import { service } from '../service/service.ts'
import type { ServiceConfig } from '../service/types.ts'
import { type PlanOptions, plan, type WorkerPlan } from './plan.ts'
import { THREAD_ENVS } from './threads.ts'

function svc(config: Partial<ServiceConfig> = {}) {
  return service({ name: 'svc', apis: { predict: api({ handler: () => 'ok' }) }, ...config })
}

function planFor(config: Partial<ServiceConfig>, options: Partial<PlanOptions> = {}): WorkerPlan {
  return plan(svc(config), { probe: fakeProbe(), ...options })
}

// The error thrown by `fn`, which must be a BentoConfigError for `field` whose message has a fix.
function configError(fn: () => unknown, field: string): BentoConfigError {
  let caught: unknown
  try {
    fn()
  } catch (error) {
    caught = error
  }
  expect(caught).toBeInstanceOf(BentoConfigError)
  const error = caught as BentoConfigError
  expect(error.field).toBe(field)
  expect(error.message).toContain(`${field} `)
  expect(error.message).toContain('Fix: ')
  return error
}

describe('plan: the worker count', () => {
  it.each([
    [
      'no workers, no resources: the default',
      {},
      1,
      'workers: not set, no resources -> 1 worker (the default)',
    ],
    ['workers: N', { workers: 3 }, 3, 'workers: 3 (service) -> 3 workers'],
    ['cpu_count', { workers: 'cpu_count' }, 4, 'workers: "cpu_count" -> ceil(4) = 4 workers'],
    [
      'GPU service',
      { resources: { gpu: 2 } },
      2,
      'resources.gpu: 2 -> ceil(2 x workersPerResource 1) = 2 workers',
    ],
    [
      'GPU service, 2 per GPU',
      { resources: { gpu: 2 }, workersPerResource: 2 },
      4,
      'resources.gpu: 2 -> ceil(2 x workersPerResource 2) = 4 workers',
    ],
    [
      'GPU service, fractional workersPerResource',
      { resources: { gpu: 1 }, workersPerResource: 1.5 },
      2,
      'ceil(1 x workersPerResource 1.5) = 2 workers',
    ],
    [
      'a GPU fraction counts as one GPU',
      { resources: { gpu: 0.5 } },
      1,
      'resources.gpu: 0.5 (a fraction shares one GPU) -> ceil(1 x workersPerResource 1) = 1 worker',
    ],
    [
      'GPU fraction with workersPerResource',
      { resources: { gpu: 0.5 }, workersPerResource: 4 },
      4,
      '= 4 workers',
    ],
    [
      'GPU before CPU',
      { resources: { gpu: 1, cpu: 8 } },
      1,
      'resources.gpu: 1 -> ceil(1 x workersPerResource 1) = 1 worker',
    ],
    [
      'CPU service',
      { resources: { cpu: 2 } },
      2,
      'resources.cpu: 2 -> ceil(2) x workersPerResource 1 = 2 workers',
    ],
    [
      'CPU service, fractional CPUs round up',
      { resources: { cpu: 1.5 } },
      2,
      'resources.cpu: 1.5 -> ceil(1.5) x workersPerResource 1 = 2 workers',
    ],
    ['CPU service, 2 per CPU', { resources: { cpu: 2 }, workersPerResource: 2 }, 4, '= 4 workers'],
    [
      'CPU service, product rounds up',
      { resources: { cpu: 3 }, workersPerResource: 0.5 },
      2,
      'resources.cpu: 3 -> ceil(3) x workersPerResource 0.5 = 2 workers',
    ],
    ['CPU service, never 0', { resources: { cpu: 1 }, workersPerResource: 0.25 }, 1, '= 1 worker'],
    [
      'float noise does not add a worker',
      { resources: { cpu: 30 }, workersPerResource: 0.1 },
      3,
      '= 3 workers',
    ],
    [
      'multi-threaded: workersPerResource',
      { resources: { cpu: 4 }, multiThreaded: true },
      1,
      'resources.cpu: 4, multiThreaded -> workersPerResource 1 = 1 worker, each using every thread',
    ],
    [
      'multi-threaded, 2 per resource',
      { resources: { cpu: 4 }, multiThreaded: true, workersPerResource: 2 },
      2,
      'workersPerResource 2 = 2 workers',
    ],
    [
      'multi-threaded, fraction rounds up',
      { resources: { cpu: 4 }, multiThreaded: true, workersPerResource: 0.5 },
      1,
      'workersPerResource 0.5 = 1 worker',
    ],
    ['multiThreaded alone changes nothing', { multiThreaded: true }, 1, '(the default)'],
  ] as [string, Partial<ServiceConfig>, number, string][])('%s', (_, config, workers, reason) => {
    const result = planFor(config, {
      probe: fakeProbe({ cpus: 4, gpus: [gpu(0), gpu(1), gpu(2), gpu(3)] }),
    })
    expect(result.workers).toBe(workers)
    expect(result.assignments).toHaveLength(workers)
    expect(result.reasons.some((line) => line.includes(reason))).toBe(true)
  })

  it('explicit workers: N beats the resources', () => {
    const result = planFor({ workers: 2, resources: { cpu: 8 } }, { probe: fakeProbe({ cpus: 8 }) })
    expect(result.workers).toBe(2)
  })

  it("the caller's count beats $BENTO_WORKERS, which beats the service, each named as it came", () => {
    const both = planFor(
      { workers: 'cpu_count' },
      { workers: { count: 3, source: '--workers' }, env: { BENTO_WORKERS: '5' } }
    )
    expect(both.workers).toBe(3)
    expect(both.reasons[0]).toBe(
      'workers: 3 (--workers, over BENTO_WORKERS=5; the service says workers: "cpu_count") -> 3 workers'
    )
    // Whatever the caller calls it: no flag is claimed that nobody passed.
    const dev = planFor({}, { workers: { count: 1, source: 'bento dev runs one worker' } })
    expect(dev.reasons[0]).toBe('workers: 1 (bento dev runs one worker) -> 1 worker')
    const env = planFor({ workers: 2 }, { env: { BENTO_WORKERS: ' 5 ' } })
    expect(env.workers).toBe(5)
    expect(env.reasons[0]).toBe(
      'workers: BENTO_WORKERS=5 (environment; the service says workers: 2) -> 5 workers'
    )
  })

  it('an empty $BENTO_WORKERS is unset', () => {
    expect(planFor({ workers: 2 }, { env: { BENTO_WORKERS: '' } }).workers).toBe(2)
  })

  it('warns when resources.cpu asks for more CPUs than the cgroup allows, naming the quota', () => {
    const result = plan(svc({ resources: { cpu: 4 } }), { probe: probeFixture('docker-v1') })
    expect(result.workers).toBe(4)
    expect(result.warnings).toEqual([
      'resources.cpu is 4 but this process may use only 1.5 CPUs (CPU quota in /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us); the workers will share them',
    ])
  })

  it('does not warn when resources.cpu fits', () => {
    expect(planFor({ resources: { cpu: 4 } }, { probe: fakeProbe({ cpus: 4 }) }).warnings).toEqual(
      []
    )
  })
})

describe('plan: cgroup limits through the probe fixtures', () => {
  it('v2 with the parent slice 1.5-CPU quota: cpu_count gives ceil(1.5) = 2, naming cpu.max', () => {
    const result = plan(svc({ workers: 'cpu_count' }), {
      probe: probeFixture('v2-nested-parent-tighter'),
    })
    expect(result.workers).toBe(2)
    expect(result.reasons.slice(0, 2)).toEqual([
      'cgroup /system.slice/app.slice/web.service (v2): quota 1.5 CPUs from /sys/fs/cgroup/system.slice/app.slice/cpu.max -> effective 1.5 CPUs',
      'workers: "cpu_count" -> ceil(1.5) = 2 workers',
    ])
  })

  it('v1 with a tighter parent quota: the parent wins (1 CPU, 1 worker)', () => {
    const result = plan(svc({ workers: 'cpu_count' }), { probe: probeFixture('v1-parent-tighter') })
    expect(result.workers).toBe(1)
    expect(result.reasons[0]).toBe(
      'cgroup /batch/job-7/task (v1): quota 1 CPU from /sys/fs/cgroup/cpu,cpuacct/batch/job-7/cpu.cfs_quota_us, cpuset 6 CPUs from /sys/fs/cgroup/cpuset/batch/cpuset.effective_cpus, affinity 6 CPUs -> effective 1 CPU'
    )
  })

  it.each(['k8s-v2', 'k8s-v1'])('%s: a 0.5-CPU pod gives 1 worker, never 0', (fixture) => {
    const result = plan(svc({ workers: 'cpu_count' }), { probe: probeFixture(fixture) })
    expect(result.workers).toBe(1)
    expect(result.reasons[0]).toMatch(
      /^cgroup \/kubepods.* \(v[12]\): quota 0\.5 CPUs from .*-> effective 0\.5 CPUs$/
    )
    expect(result.reasons[1]).toBe('workers: "cpu_count" -> ceil(0.5) = 1 worker')
  })

  it.each([
    ['docker-v1', 2, 'quota 1.5 CPUs from /sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us'],
    ['v2-container', 2, 'quota 2 CPUs from /sys/fs/cgroup/cpu.max'],
    [
      'v1-host',
      3,
      'quota 2.5 CPUs from /sys/fs/cgroup/cpu,cpuacct/system.slice/bento.service/cpu.cfs_quota_us',
    ],
    [
      'v2-cpuset',
      2,
      'cpuset 2 CPUs from /sys/fs/cgroup/pinned.slice/job.scope/cpuset.cpus.effective',
    ],
    ['no-cgroup', 3, 'no cgroup: affinity 3 CPUs -> effective 3 CPUs'],
  ])('%s: cpu_count gives %i', (fixture, workers, line) => {
    const result = plan(svc({ workers: 'cpu_count' }), { probe: probeFixture(fixture) })
    expect(result.workers).toBe(workers)
    expect(result.reasons[0]).toContain(line)
  })

  it('a CPU service reads the limit too: resources.cpu 1 on 0.5 CPUs warns and runs 1', () => {
    const result = plan(svc({ resources: { cpu: 1 } }), { probe: probeFixture('k8s-v1') })
    expect(result.workers).toBe(1)
    expect(result.warnings[0]).toContain(
      'resources.cpu is 1 but this process may use only 0.5 CPUs'
    )
  })
})

describe('plan: the memory cap', () => {
  it('caps workers at what the cgroup memory limit holds, naming the limit file', () => {
    const result = plan(svc({ workers: 4, workerMemory: '1Gi' }), {
      probe: probeFixture('v1-host'),
    })
    expect(result.workers).toBe(2)
    expect(result.assignments).toHaveLength(2)
    expect(result.warnings).toEqual([
      'memory limit 2 GiB (/sys/fs/cgroup/memory/system.slice/bento.service/memory.limit_in_bytes) holds 2 workers of 1 GiB; running 2 instead of 4',
    ])
    expect(result.reasons).toContain('workerMemory: capped at 2 workers')
    expect(result.assignments[1]!.env['BENTO_WORKER_COUNT']).toBe('2')
  })

  it('caps cpu_count as well (v2 limit 256 MiB, 2 CPUs wanted, 1 fits)', () => {
    const result = plan(svc({ workers: 'cpu_count', workerMemory: '200Mi' }), {
      probe: probeFixture('v2-nested-parent-tighter'),
    })
    expect(result.workers).toBe(1)
    expect(result.warnings).toEqual([
      'memory limit 256 MiB (/sys/fs/cgroup/system.slice/app.slice/web.service/memory.max) holds 1 worker of 200 MiB; running 1 instead of 2',
    ])
  })

  it('uses the hierarchical limit of memory.stat when it is the tightest', () => {
    const result = plan(svc({ workers: 3, workerMemory: '512Mi' }), {
      probe: probeFixture('v1-hierarchical-limit'),
    })
    expect(result.workers).toBe(2)
    expect(result.warnings[0]).toContain(
      'memory limit 1 GiB (/sys/fs/cgroup/memory/app/memory.stat)'
    )
  })

  it('leaves the count alone when the workers fit', () => {
    const result = plan(svc({ workers: 2, workerMemory: '512Mi' }), {
      probe: probeFixture('docker-v1'),
    })
    expect(result.workers).toBe(2)
    expect(result.warnings).toEqual([])
    expect(result.reasons).toContain(
      'workerMemory: memory limit 1 GiB (/sys/fs/cgroup/memory/memory.limit_in_bytes) holds 2 workers of 512 MiB -> 2 workers fit'
    )
  })

  it('without a cgroup limit, uses the host memory', () => {
    const result = plan(svc({ workers: 8, workerMemory: '4Gi' }), {
      probe: probeFixture('v2-cpuset'),
    })
    expect(result.workers).toBe(3)
    expect(result.warnings[0]).toBe(
      'host memory 15.5 GiB (no cgroup memory limit) holds 3 workers of 4 GiB; running 3 instead of 8'
    )
  })

  it('runs 1 worker with a warning when not even one fits', () => {
    const result = plan(svc({ workers: 2, workerMemory: '1Gi' }), { probe: probeFixture('k8s-v1') })
    expect(result.workers).toBe(1)
    expect(result.warnings[0]).toContain('memory limit 128 MiB')
    expect(result.warnings[0]).toContain('holds no worker of 1 GiB; running 1 anyway')
  })

  it.each([
    ['--workers', { workers: { count: 4, source: '--workers' } }],
    ['BENTO_WORKERS', { env: { BENTO_WORKERS: '4' } }],
  ] as [string, Partial<PlanOptions>][])(
    'does not cap an explicit %s, but warns',
    (name, options) => {
      const result = plan(svc({ workerMemory: '1Gi' }), {
        probe: probeFixture('v1-host'),
        ...options,
      })
      expect(result.workers).toBe(4)
      expect(result.warnings).toEqual([
        `memory limit 2 GiB (/sys/fs/cgroup/memory/system.slice/bento.service/memory.limit_in_bytes) holds 2 workers of 1 GiB; running 4 anyway, as ${name} asks`,
      ])
    }
  )

  it('warns when no memory figure is known', () => {
    const result = planFor(
      { workers: 2, workerMemory: '1Gi' },
      { probe: fakeProbe({ memory: null }) }
    )
    expect(result.workers).toBe(2)
    expect(result.warnings[0]).toContain('workerMemory is set but neither a memory limit')
  })
})

describe('plan: threads and worker environment', () => {
  it('gives each worker its index, the count, no GPUs and the service envs', () => {
    const result = planFor({ workers: 3, envs: { HF_HOME: '/models', BENTO_WORKER_INDEX: '9' } })
    expect(result.assignments.map((a) => a.workerIndex)).toEqual([1, 2, 3])
    for (const [k, assignment] of result.assignments.entries()) {
      expect(assignment.gpus).toEqual([])
      expect(assignment.env).toMatchObject({
        HF_HOME: '/models',
        BENTO_WORKER_INDEX: String(k + 1),
        BENTO_WORKER_COUNT: '3',
        BENTO_GPUS: '',
      })
    }
  })

  it('leaves CUDA_VISIBLE_DEVICES alone for a CPU service, even with GPUs present', () => {
    const result = planFor(
      { workers: 2 },
      { probe: fakeProbe({ gpus: [gpu(0)] }), env: { CUDA_VISIBLE_DEVICES: '0' } }
    )
    for (const assignment of result.assignments) {
      expect(assignment.env).not.toHaveProperty('CUDA_VISIBLE_DEVICES')
      expect(assignment.env).not.toHaveProperty('CUDA_DEVICE_ORDER')
    }
    expect(result.reasons).toContain(
      'GPUs: none assigned (no resources.gpu); CUDA_VISIBLE_DEVICES is inherited unchanged, as in BentoML'
    )
  })

  it('single-threaded CPU workers get 1 thread in every thread variable', () => {
    const [first] = planFor({ workers: 2 }, { probe: fakeProbe({ cpus: 16 }) }).assignments
    expect(first!.threads).toBe(1)
    for (const { name } of THREAD_ENVS) expect(first!.env[name]).toBe('1')
  })

  it('a multi-threaded worker gets every CPU, rounded up from the quota', () => {
    const result = plan(svc({ multiThreaded: true }), { probe: probeFixture('docker-v1') })
    const [only] = result.assignments
    expect(only!.threads).toBe(2)
    expect(only!.env['OMP_NUM_THREADS']).toBe('2')
    expect(only!.env['RAYON_NUM_THREADS']).toBe('2')
    expect(only!.env['TF_NUM_INTEROP_THREADS']).toBe('1')
    expect(result.reasons).toContain(
      'threads: multiThreaded -> every CPU, ceil(1.5) = 2 per worker'
    )
  })

  it('a multi-threaded CPU service gets the CPUs it declared, within the limit', () => {
    const result = planFor(
      { multiThreaded: true, resources: { cpu: 2 } },
      { probe: fakeProbe({ cpus: 16 }) }
    )
    expect(result.assignments[0]!.threads).toBe(2)
  })

  it('warns when several multi-threaded workers oversubscribe the CPUs', () => {
    const result = planFor({ multiThreaded: true, workers: 2 }, { probe: fakeProbe({ cpus: 4 }) })
    expect(result.assignments[1]!.threads).toBe(4)
    expect(result.warnings).toEqual([
      '2 workers x 4 threads oversubscribe 4 CPUs; multiThreaded models usually run best as 1 worker',
    ])
  })

  it('GPU workers share the CPUs', () => {
    const result = planFor(
      { workers: 2, resources: { gpu: 2 } },
      { probe: fakeProbe({ cpus: 9, gpus: [gpu(0), gpu(1)] }) }
    )
    expect(result.assignments.map((a) => a.threads)).toEqual([4, 4])
    expect(result.reasons).toContain(
      'threads: GPU workers share the CPUs, floor(9 / 2) = 4 per worker'
    )
  })

  it('never overrides a thread variable the user set, in the environment or in envs', () => {
    const result = planFor(
      { workers: 2, envs: { OMP_NUM_THREADS: '3' } },
      { env: { MKL_NUM_THREADS: '8' } }
    )
    const env = result.assignments[0]!.env
    expect(env['OMP_NUM_THREADS']).toBe('3')
    expect(env).not.toHaveProperty('MKL_NUM_THREADS')
    expect(env['OPENBLAS_NUM_THREADS']).toBe('3')
    expect(result.assignments[0]!.threads).toBe(3)
    expect(result.reasons).toContain('threads: OMP_NUM_THREADS=3 is set by the user -> kept')
  })

  it('lists each thread variable once, with why', () => {
    const names = THREAD_ENVS.map((entry) => entry.name)
    expect(new Set(names).size).toBe(names.length)
    expect(names).toEqual(
      expect.arrayContaining([
        'OMP_NUM_THREADS',
        'MKL_NUM_THREADS',
        'OPENBLAS_NUM_THREADS',
        'NUMEXPR_NUM_THREADS',
        'VECLIB_MAXIMUM_THREADS',
        'TF_NUM_INTRAOP_THREADS',
        'TF_NUM_INTEROP_THREADS',
        'RAYON_NUM_THREADS',
      ])
    )
    for (const entry of THREAD_ENVS) expect(entry.why.length).toBeGreaterThan(10)
  })
})

describe('plan: bad values name the field and the fix', () => {
  it.each([
    ['workers', { workers: 0 }, 'use a whole number of at least 1'],
    ['workers', { workers: -1 }, 'use a whole number of at least 1'],
    ['workers', { workers: 1.5 }, 'use a whole number of at least 1'],
    ['workers', { workers: 'cpu-count' }, 'write "cpu_count" with an underscore'],
    ['resources.gpu', { resources: { gpu: 1.5 } }, 'use gpu: 1, gpu: 2'],
  ] as [string, ServiceConfig, string][])('%s: %j', (field, config, fix) => {
    const error = configError(() => svc(config), field)
    expect(error.message).toContain(fix)
  })

  it.each(['abc', '0', '-2', '1.5', '2x'])('BENTO_WORKERS=%s', (value) => {
    const error = configError(() => planFor({}, { env: { BENTO_WORKERS: value } }), 'BENTO_WORKERS')
    expect(error.message).toContain(`got "${value}"`)
    expect(error.fix).toContain('BENTO_WORKERS=2')
  })

  it.each([0, -1, 1.5, Number.NaN])('a count of %s from the caller', (value) => {
    const error = configError(
      () => planFor({}, { workers: { count: value, source: '--workers' } }),
      '--workers'
    )
    expect(error.fix).toContain('give 1 or more')
  })

  it('more GPUs than exist', () => {
    const error = configError(
      () => planFor({ resources: { gpu: 2 } }, { probe: fakeProbe({ gpus: [gpu(0)] }) }),
      'resources.gpu'
    )
    expect(error.message).toBe(
      'service "svc": resources.gpu needs 2 GPUs for 2 workers but 1 is available (NVML found 1 GPU). Fix: run fewer workers, lower resources.gpu (0.5 puts two workers on each GPU), or set BENTO_DISABLE_GPU_ALLOCATION=1 to manage CUDA_VISIBLE_DEVICES yourself.'
    )
  })

  it('a GPU count the workers cannot split', () => {
    const error = configError(
      () =>
        planFor(
          { workers: 2, resources: { gpu: 3 } },
          { probe: fakeProbe({ gpus: [gpu(0), gpu(1), gpu(2)] }) }
        ),
      'resources.gpu'
    )
    expect(error.message).toContain('is 3 GPUs, which 2 workers cannot split evenly')
    expect(error.fix).toContain('set workers to a divisor of 3 (1, 3)')
  })
})
