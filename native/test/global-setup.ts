// Compiles the fake NVML library and nvidia-smi once per run; tests read the paths with
// `inject('fakeNvml')`.
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from './fake-nvml/build.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: { library: string; nvidiaSmi: string; dir: string }
  }
}

export default function setup(project: TestProject) {
  project.provide('fakeNvml', buildFakeNvml())
}
