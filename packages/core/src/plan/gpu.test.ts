// GPU allocation against the fake NVML library, loaded by the real @bento/native addon in this
// process. The fake reads FAKE_NVML_* from the environment on every call, so each test sets the
// inventory it wants and probes again.
import { type ProbeResult, probe } from '@bento/native'
import { afterAll, beforeEach, describe, expect, inject, it } from 'vitest'
import { fakeProbe, gpu } from '../../test/probes.ts'
import { BentoConfigError } from '../errors.ts'
import { api } from '../service/apis.ts'
import { service } from '../service/service.ts'
import { allocateGpus, gpuPool, gpuSlots } from './gpu.ts'
import { plan } from './plan.ts'

const { library, nvidiaSmi } = inject('fakeNvml')
const uuid = (index: number) => `GPU-fa4e0000-0000-4000-8000-00000000000${index}`
const migUuid = (index: number, slot: number) =>
  `MIG-fa4e0000-0000-4000-8000-0000000${index}000${slot}`

function clearFake() {
  for (const name of Object.keys(process.env)) {
    if (name.startsWith('FAKE_NVML_')) delete process.env[name]
  }
}
beforeEach(clearFake)
afterAll(clearFake)

function probeFake(devices: number, mig?: string): ProbeResult {
  process.env['FAKE_NVML_DEVICES'] = String(devices)
  if (mig !== undefined) process.env['FAKE_NVML_MIG'] = mig
  const result = probe({ nvmlLibrary: library, implementation: 'native' })
  expect(result.nvml.error).toBeNull()
  return result
}

function allocate(
  gpu: number,
  workers: number,
  probed: ProbeResult,
  env: Record<string, string> = {}
) {
  return allocateGpus({ gpu, workers, probe: probed, env, service: 'svc' })
}

function thrown(fn: () => unknown): BentoConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(BentoConfigError)
    return error as BentoConfigError
  }
  throw new Error('expected a BentoConfigError')
}

describe('the fake NVML inventory', () => {
  it.each([0, 1, 2])('reports %i GPUs', (count) => {
    expect(probeFake(count).gpus.map((g) => g.uuid)).toEqual(
      Array.from({ length: count }, (_, i) => uuid(i))
    )
  })
})

describe('allocateGpus through plan()', () => {
  const svc = (resources: { gpu: number }, workers: number) =>
    service({ name: 'svc', workers, resources, apis: { predict: api({ handler: () => 'ok' }) } })

  it('gpu: 2, workers: 2 -> worker 1 on the first GPU, worker 2 on the second', () => {
    const result = plan(svc({ gpu: 2 }, 2), { probe: probeFake(2) })
    expect(result.assignments.map((a) => a.gpus)).toEqual([[uuid(0)], [uuid(1)]])
    expect(result.assignments.map((a) => a.env)).toEqual([
      expect.objectContaining({
        BENTO_WORKER_INDEX: '1',
        BENTO_GPUS: uuid(0),
        CUDA_VISIBLE_DEVICES: uuid(0),
        CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
      }),
      expect.objectContaining({
        BENTO_WORKER_INDEX: '2',
        BENTO_GPUS: uuid(1),
        CUDA_VISIBLE_DEVICES: uuid(1),
        CUDA_DEVICE_ORDER: 'PCI_BUS_ID',
      }),
    ])
    expect(result.reasons).toEqual(
      expect.arrayContaining([
        `NVML (driver 560.35.03): 2 GPUs: 0 ${uuid(0)}, 1 ${uuid(1)}`,
        'resources.gpu: 2 over 2 workers -> 1 GPU each',
        `GPUs: worker 1 -> ${uuid(0)}; worker 2 -> ${uuid(1)}`,
      ])
    )
    expect(result.warnings).toEqual([])
  })

  it('service envs CUDA_VISIBLE_DEVICES restricts the pool and is replaced per worker', () => {
    const config = { name: 'svc', resources: { gpu: 1 }, envs: { CUDA_VISIBLE_DEVICES: '1' } }
    const result = plan(service({ ...config, apis: { p: api({ handler: () => 1 }) } }), {
      probe: probeFake(2),
    })
    expect(result.assignments[0]!.env['CUDA_VISIBLE_DEVICES']).toBe(uuid(1))
  })
})

describe('allocateGpus: the split', () => {
  it('gpu: 2, workers: 1 -> both GPUs to the one worker', () => {
    const result = allocate(2, 1, probeFake(2))
    expect(result.gpus).toEqual([[uuid(0), uuid(1)]])
    expect(result.env[0]!['CUDA_VISIBLE_DEVICES']).toBe(`${uuid(0)},${uuid(1)}`)
  })

  it('gpu: 2, workers: 4 -> workers 1-2 on the first GPU, 3-4 on the second', () => {
    expect(allocate(2, 4, probeFake(2)).gpus).toEqual([[uuid(0)], [uuid(0)], [uuid(1)], [uuid(1)]])
  })

  it('gpu: 1, workers: 3 -> all share the first GPU', () => {
    expect(allocate(1, 3, probeFake(2)).gpus).toEqual([[uuid(0)], [uuid(0)], [uuid(0)]])
  })

  it('gpu: 0.5, workers: 4 -> two workers per GPU', () => {
    const result = allocate(0.5, 4, probeFake(2))
    expect(result.gpus).toEqual([[uuid(0)], [uuid(0)], [uuid(1)], [uuid(1)]])
    expect(result.reasons).toContain('resources.gpu: 0.5 -> 2 workers per GPU, 4 workers on 2 GPUs')
  })

  it('gpu: 0.5, workers: 3 -> 2 on the first GPU, 1 on the second', () => {
    expect(allocate(0.5, 3, probeFake(2)).gpus).toEqual([[uuid(0)], [uuid(0)], [uuid(1)]])
  })

  it('gpu: 0.5, workers: 2 fits on one GPU', () => {
    expect(allocate(0.5, 2, probeFake(1)).gpus).toEqual([[uuid(0)], [uuid(0)]])
  })

  it.each([
    [
      4,
      2,
      [
        [0, 1],
        [2, 3],
      ],
      4,
    ],
    [3, 3, [[0], [1], [2]], 3],
    [2, 3, [[0], [0], [1]], 2],
    [1, 2, [[0], [0]], 1],
    [0.25, 5, [[0], [0], [0], [0], [1]], 2],
    [1 / 3, 4, [[0], [0], [0], [1]], 2],
    [0.3, 3, [[0], [0], [0]], 1],
    [0.7, 2, [[0], [1]], 2],
  ])('gpuSlots(%s, %i)', (g, workers, slots, needed) => {
    const result = gpuSlots(g, workers)
    expect(result.slots).toEqual(slots)
    expect(result.needed).toBe(needed)
  })

  it('refuses a split that is not even', () => {
    const error = thrown(() => gpuSlots(3, 2, 'svc'))
    expect(error.field).toBe('resources.gpu')
    expect(error.message).toContain('workers')
    expect(error.message).toContain('Fix: set workers to a divisor of 3 (1, 3)')
    expect(error.message).toContain('or resources.gpu to a multiple of 2 (2, 4, ...)')
  })
})

describe('allocateGpus: MIG', () => {
  it('hands out MIG device UUIDs instead of a GPU in MIG mode', () => {
    const probed = probeFake(2, '1')
    const pool = gpuPool(probed)
    expect(pool.devices.map((d) => d.uuid)).toEqual([uuid(0), migUuid(1, 0), migUuid(1, 2)])
    expect(allocate(3, 3, probed).gpus).toEqual([[uuid(0)], [migUuid(1, 0)], [migUuid(1, 2)]])
    expect(pool.reasons[0]).toBe(
      `NVML (driver 560.35.03): 2 GPUs: 0 ${uuid(0)}, 1 ${uuid(1)} (MIG: ${migUuid(1, 0)}, ${migUuid(1, 2)})`
    )
  })

  it('warns when a worker would get more than one MIG device', () => {
    const result = allocate(2, 1, probeFake(1, '0'))
    expect(result.gpus).toEqual([[migUuid(0, 0), migUuid(0, 2)]])
    expect(result.warnings[0]).toContain(
      'worker 1 gets 2 MIG devices, but CUDA uses only the first MIG device a process is given'
    )
  })

  it('a GPU UUID in CUDA_VISIBLE_DEVICES stands for its MIG devices; a MIG UUID for itself', () => {
    const probed = probeFake(2, '0,1')
    expect(gpuPool(probed, { CUDA_VISIBLE_DEVICES: uuid(1) }).devices.map((d) => d.uuid)).toEqual([
      migUuid(1, 0),
      migUuid(1, 2),
    ])
    expect(
      gpuPool(probed, { CUDA_VISIBLE_DEVICES: migUuid(0, 2) }).devices.map((d) => d.uuid)
    ).toEqual([migUuid(0, 2)])
  })

  it('leaves out a GPU in MIG mode without MIG devices, with a warning', () => {
    const pool = gpuPool(fakeProbe({ gpus: [gpu(0, []), gpu(1)] }))
    expect(pool.devices.map((d) => d.uuid)).toEqual([gpu(1).uuid])
    expect(pool.warnings[0]).toContain(`GPU 0 (${gpu(0).uuid}) is in MIG mode with no MIG devices`)
  })
})

describe('allocateGpus: CUDA_VISIBLE_DEVICES and NVIDIA_VISIBLE_DEVICES', () => {
  const pooled = (env: Record<string, string>, devices = 2, mig?: string) =>
    gpuPool(probeFake(devices, mig), env)
  const uuids = (pool: { devices: { uuid: string }[] }) => pool.devices.map((d) => d.uuid)

  it('CUDA_VISIBLE_DEVICES=1 restricts the pool to the second GPU', () => {
    const result = allocate(1, 1, probeFake(2), { CUDA_VISIBLE_DEVICES: '1' })
    expect(result.gpus).toEqual([[uuid(1)]])
    expect(result.reasons).toContain(`CUDA_VISIBLE_DEVICES="1" -> ${uuid(1)}`)
  })

  it('keeps the order it lists', () => {
    expect(allocate(2, 2, probeFake(2), { CUDA_VISIBLE_DEVICES: '1,0' }).gpus).toEqual([
      [uuid(1)],
      [uuid(0)],
    ])
  })

  it('matches full UUIDs, in any case, and unique prefixes', () => {
    expect(uuids(pooled({ CUDA_VISIBLE_DEVICES: uuid(1) }))).toEqual([uuid(1)])
    expect(uuids(pooled({ CUDA_VISIBLE_DEVICES: uuid(1).toLowerCase() }))).toEqual([uuid(1)])
    expect(uuids(pooled({ CUDA_VISIBLE_DEVICES: 'GPU-fa4e' }, 1))).toEqual([uuid(0)])
  })

  it('an ambiguous prefix names no device', () => {
    const pool = pooled({ CUDA_VISIBLE_DEVICES: 'GPU-fa4e' })
    expect(pool.devices).toEqual([])
    expect(pool.warnings[0]).toContain(
      'CUDA_VISIBLE_DEVICES entry "GPU-fa4e" is a prefix of 2 device UUIDs, so it names none'
    )
  })

  it.each(['7', 'GPU-nope', 'nvidia0'])(
    'never hands out the unknown entry %s, and warns',
    (entry) => {
      const probed = probeFake(2)
      const pool = gpuPool(probed, { CUDA_VISIBLE_DEVICES: `0,${entry}` })
      expect(uuids(pool)).toEqual([uuid(0)])
      expect(pool.warnings).toHaveLength(1)
      expect(pool.warnings[0]).toContain(`CUDA_VISIBLE_DEVICES entry "${entry}"`)
      expect(pool.warnings[0]).toContain(`Probed: 0 ${uuid(0)}, 1 ${uuid(1)}`)
      const error = thrown(() => allocate(2, 2, probed, { CUDA_VISIBLE_DEVICES: `0,${entry}` }))
      expect(error.message).toContain(
        `needs 2 GPUs for 2 workers but 1 is available (NVML found 2 GPUs; CUDA_VISIBLE_DEVICES="0,${entry}" leaves 1)`
      )
      expect(error.fix).toContain('list more devices in CUDA_VISIBLE_DEVICES')
    }
  )

  it('drops what follows an unknown CUDA_VISIBLE_DEVICES entry, as CUDA does', () => {
    const pool = pooled({ CUDA_VISIBLE_DEVICES: '0,7,1' })
    expect(uuids(pool)).toEqual([uuid(0)])
    expect(pool.warnings[0]).toContain(
      'nor is anything after it (1), as CUDA stops at the first invalid entry'
    )
  })

  it('NVIDIA_VISIBLE_DEVICES skips only the unknown entry', () => {
    const pool = pooled({ NVIDIA_VISIBLE_DEVICES: '1,7,0' })
    expect(uuids(pool)).toEqual([uuid(1), uuid(0)])
    expect(pool.warnings).toHaveLength(1)
    expect(pool.warnings[0]).toContain('NVIDIA_VISIBLE_DEVICES entry "7" matches no GPU index')
  })

  it('CUDA_VISIBLE_DEVICES=-1 hides every GPU without a warning', () => {
    const pool = pooled({ CUDA_VISIBLE_DEVICES: '-1' })
    expect(pool.devices).toEqual([])
    expect(pool.warnings).toEqual([])
    expect(pool.reasons).toContain(
      'CUDA_VISIBLE_DEVICES stops at -1: CUDA sees nothing listed after it'
    )
  })

  it.each([
    ['', 0],
    ['none', 0],
    ['void', 0],
    ['all', 2],
    ['ALL', 2],
  ])('%j lists %i devices', (value, count) => {
    expect(pooled({ NVIDIA_VISIBLE_DEVICES: value }).devices).toHaveLength(count)
    expect(pooled({ CUDA_VISIBLE_DEVICES: value }).devices).toHaveLength(count)
  })

  it('CUDA_VISIBLE_DEVICES wins over NVIDIA_VISIBLE_DEVICES', () => {
    const pool = pooled({ CUDA_VISIBLE_DEVICES: '1', NVIDIA_VISIBLE_DEVICES: '0' })
    expect(uuids(pool)).toEqual([uuid(1)])
  })

  it('NVIDIA_VISIBLE_DEVICES=1 restricts the pool on the host', () => {
    expect(uuids(pooled({ NVIDIA_VISIBLE_DEVICES: '1' }))).toEqual([uuid(1)])
  })

  it('reads host indexes the container runtime already applied as every GPU (docker --gpus \'"device=2,3"\')', () => {
    const pool = pooled({ NVIDIA_VISIBLE_DEVICES: '2,3' })
    expect(uuids(pool)).toEqual([uuid(0), uuid(1)])
    expect(pool.warnings).toEqual([])
    expect(pool.reasons[1]).toContain('which the container runtime has already applied')
  })

  it('an unknown index that is not a container remap still warns', () => {
    const pool = pooled({ NVIDIA_VISIBLE_DEVICES: '3' })
    expect(pool.devices).toEqual([])
    expect(pool.warnings[0]).toContain('entry "3" matches no GPU index')
  })

  it('a device listed twice is used once', () => {
    const pool = pooled({ CUDA_VISIBLE_DEVICES: `0,${uuid(0)}` })
    expect(uuids(pool)).toEqual([uuid(0)])
    expect(pool.warnings[0]).toContain('twice')
  })
})

describe('allocateGpus: BENTO_DISABLE_GPU_ALLOCATION', () => {
  it('=1 sets no CUDA variables and checks nothing against the pool', () => {
    const result = allocate(4, 3, probeFake(0), { BENTO_DISABLE_GPU_ALLOCATION: '1' })
    expect(result.gpus).toEqual([[], [], []])
    expect(result.env).toEqual([{}, {}, {}])
    expect(result.reasons).toEqual([
      'BENTO_DISABLE_GPU_ALLOCATION=1: GPUs are not assigned; workers inherit CUDA_VISIBLE_DEVICES as it is, unchecked',
    ])
  })

  it('through plan(): no CUDA variables, and the reason is listed', () => {
    const svc = service({
      name: 'svc',
      workers: 2,
      resources: { gpu: 2 },
      apis: { p: api({ handler: () => 1 }) },
    })
    const result = plan(svc, {
      probe: probeFake(1),
      env: { BENTO_DISABLE_GPU_ALLOCATION: '1', CUDA_VISIBLE_DEVICES: '0' },
    })
    expect(result.workers).toBe(2)
    for (const assignment of result.assignments) {
      expect(assignment.env).not.toHaveProperty('CUDA_VISIBLE_DEVICES')
      expect(assignment.env).not.toHaveProperty('CUDA_DEVICE_ORDER')
      expect(assignment.env['BENTO_GPUS']).toBe('')
    }
    expect(result.reasons.some((line) => line.startsWith('BENTO_DISABLE_GPU_ALLOCATION=1'))).toBe(
      true
    )
  })

  it.each(['0', 'false', ''])('=%j does not disable it', (value) => {
    const result = allocate(1, 1, probeFake(1), { BENTO_DISABLE_GPU_ALLOCATION: value })
    expect(result.gpus).toEqual([[uuid(0)]])
  })
})

describe('allocateGpus: not enough GPUs', () => {
  it('more GPUs than the fake has', () => {
    const error = thrown(() => allocate(2, 2, probeFake(1)))
    expect(error.field).toBe('resources.gpu')
    expect(error.message).toBe(
      'service "svc": resources.gpu needs 2 GPUs for 2 workers but 1 is available (NVML found 1 GPU). Fix: run fewer workers, lower resources.gpu (0.5 puts two workers on each GPU), or set BENTO_DISABLE_GPU_ALLOCATION=1 to manage CUDA_VISIBLE_DEVICES yourself.'
    )
  })

  it('fractions need enough GPUs too', () => {
    const error = thrown(() => allocate(0.5, 4, probeFake(1)))
    expect(error.message).toContain('needs 2 GPUs for 4 workers but 1 is available')
  })

  it('no GPUs at all', () => {
    const error = thrown(() => allocate(1, 1, probeFake(0)))
    expect(error.message).toContain(
      'needs 1 GPU for 1 worker but none is available (NVML found 0 GPUs)'
    )
  })

  it('names the NVML error when NVML did not load', () => {
    const probed = probe({
      nvmlLibrary: '/nonexistent/libnvidia-ml.so.1',
      implementation: 'native',
    })
    expect(probed.nvml.error).toContain('cannot open /nonexistent/libnvidia-ml.so.1')
    const error = thrown(() => allocate(1, 1, probed))
    expect(error.message).toContain(`but none is available (NVML: ${probed.nvml.error})`)
    expect(error.message).toContain('Fix: ')
  })

  it('says so when GPUs were not probed', () => {
    const probed = probe({ gpu: false })
    const error = thrown(() => allocate(1, 1, probed))
    expect(error.message).toContain('but none is available (GPUs were not probed)')
  })

  it('names nvidia-smi when the fallback answered', () => {
    process.env['FAKE_NVML_DEVICES'] = '1'
    const probed = probe({ implementation: 'fallback', nvidiaSmi })
    expect(probed.gpus).toHaveLength(1)
    expect(gpuPool(probed).reasons[0]).toBe(`nvidia-smi (driver 560.35.03): 1 GPU: 0 ${uuid(0)}`)
    const error = thrown(() => allocate(2, 2, probed))
    expect(error.message).toContain('but 1 is available (nvidia-smi found 1 GPU)')
  })
})

describe('allocateGpus: one ledger for a graph', () => {
  const probe4 = () => fakeProbe({ gpus: [gpu(0), gpu(1), gpu(2), gpu(3)] })

  it('gives each service devices no other service has', () => {
    const taken = new Map()
    const embedder = allocateGpus({
      gpu: 2,
      workers: 2,
      probe: probe4(),
      service: 'embedder',
      taken,
    })
    const ranker = allocateGpus({ gpu: 1, workers: 1, probe: probe4(), service: 'ranker', taken })
    expect(embedder.gpus).toEqual([['GPU-00000000-test'], ['GPU-00000001-test']])
    expect(ranker.gpus).toEqual([['GPU-00000002-test']])
    expect(taken.get('GPU-00000002-test')).toEqual({ used: 1, by: ['ranker'] })
  })

  it('lets fractions fill a device another service holds part of', () => {
    const taken = new Map()
    const a = allocateGpus({ gpu: 0.5, workers: 1, probe: probe4(), service: 'a', taken })
    const b = allocateGpus({ gpu: 0.25, workers: 3, probe: probe4(), service: 'b', taken })
    const c = allocateGpus({ gpu: 1, workers: 1, probe: probe4(), service: 'c', taken })
    expect(a.gpus).toEqual([['GPU-00000000-test']])
    // Half of GPU 0 is left: two quarters fit there, the third goes to GPU 1.
    expect(b.gpus).toEqual([['GPU-00000000-test'], ['GPU-00000000-test'], ['GPU-00000001-test']])
    // A whole-GPU service gets a device no fraction touched.
    expect(c.gpus).toEqual([['GPU-00000002-test']])
    expect(taken.get('GPU-00000000-test')).toEqual({ used: 1, by: ['a', 'b'] })
  })

  it('fails naming the services that hold the devices', () => {
    const taken = new Map()
    const two = fakeProbe({ gpus: [gpu(0), gpu(1)] })
    allocateGpus({ gpu: 2, workers: 2, probe: two, service: 'embedder', taken })
    const error = thrown(() =>
      allocateGpus({ gpu: 1, workers: 1, probe: two, service: 'ranker', taken })
    )
    expect(error.message).toBe(
      'service "ranker": resources.gpu needs 1 GPU for 1 worker but none is available (NVML found 2 GPUs; other services of the graph hold the rest: "embedder" has GPU-00000000-test, GPU-00000001-test). Fix: run fewer workers, lower resources.gpu (0.5 puts two workers on each GPU), or set BENTO_DISABLE_GPU_ALLOCATION=1 to manage CUDA_VISIBLE_DEVICES yourself.'
    )
  })
})
