// Builds the fake NVML library (and its nvidia-smi) once per run for the GPU allocation tests,
// which read the paths with `inject('fakeNvml')`. Also builds @bento/native's dist/ when it is
// missing, since the tests import the package as users do.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'
import type { TestProject } from 'vitest/node'
// @ts-expect-error: a plain .mjs build script without types
import { buildFakeNvml } from '../../../native/test/fake-nvml/build.mjs'

declare module 'vitest' {
  export interface ProvidedContext {
    fakeNvml: { library: string; nvidiaSmi: string; dir: string }
  }
}

const native = fileURLToPath(new URL('../../../native/', import.meta.url))

export default function setup(project: TestProject) {
  if (!existsSync(`${native}dist/index.js`)) {
    const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc')
    execFileSync(process.execPath, [tsc, '-p', 'tsconfig.build.json'], {
      cwd: native,
      stdio: 'inherit',
    })
  }
  project.provide('fakeNvml', buildFakeNvml())
}
