// Compiles the fake NVML library and nvidia-smi once per run; tests read the paths with
// `inject('fakeNvml')`. Also builds dist/ from the current sources: the tests that run other
// runtimes or other cgroups spawn test/print-probe.mjs, which imports the built package.
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from './fake-nvml/build.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: { library: string; nvidiaSmi: string; dir: string }
  }
}

function buildDist() {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
  execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    stdio: 'inherit',
  })
}

export default function setup(project: TestProject) {
  buildDist()
  project.provide('fakeNvml', buildFakeNvml())
}
