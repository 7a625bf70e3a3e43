// Builds the fake NVML library (and its nvidia-smi) once per run for the GPU allocation tests,
// which read the paths with `inject('fakeNvml')`. Also makes sure @bento/native's dist/ is current,
// since the tests import the package as users do.
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from '../../../native/test/fake-nvml/build.mjs'
// @ts-expect-error: a plain .mjs script without types
import { ensureBuilt } from '../../../scripts/ensure-built.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: { library: string; nvidiaSmi: string; dir: string }
  }
}

const native = fileURLToPath(new URL('../../../native/', import.meta.url))

export default function setup(project: TestProject) {
  ensureBuilt(native, ['lib'])
  project.provide('fakeNvml', buildFakeNvml())
}
