// Compiles the fake NVML library and nvidia-smi once per run; tests read the paths with
// `inject('fakeNvml')`. Also makes sure dist/ is current: the tests that run other runtimes or
// other cgroups spawn test/print-probe.mjs, which imports the built package.
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain .mjs script without types
import { ensureBuilt } from '../../scripts/ensure-built.mjs'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from './fake-nvml/build.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: { library: string; nvidiaSmi: string; dir: string }
  }
}

export default function setup(project: TestProject) {
  ensureBuilt(fileURLToPath(new URL('..', import.meta.url)), ['lib'])
  project.provide('fakeNvml', buildFakeNvml())
}
