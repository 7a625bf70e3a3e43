// Compiles the fake NVML library and the fake nvidia-smi for tests and benchmarks.
// Idempotent: rebuilds only when a C source is newer than its output.
import { execFileSync } from 'node:child_process'
import { mkdirSync, statSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))

function mtime(path) {
  try {
    return statSync(path).mtimeMs
  } catch {
    return 0
  }
}

function compile(output, args, sources) {
  const newest = Math.max(
    ...sources.map((s) => mtime(join(here, s))),
    mtime(join(here, 'fake_devices.h'))
  )
  if (mtime(output) >= newest) return
  execFileSync(
    process.env.CC ?? 'cc',
    [...args, '-O2', '-Wall', '-o', output, ...sources.map((s) => join(here, s))],
    {
      stdio: 'inherit',
    }
  )
}

/**
 * Builds (if needed) and returns the paths of the fake `libnvidia-ml.so.1` and `nvidia-smi`.
 * @example
 * const { library, nvidiaSmi } = buildFakeNvml()
 */
export function buildFakeNvml() {
  const dir = join(here, 'build')
  mkdirSync(dir, { recursive: true })
  const library = join(dir, 'libnvidia-ml.so.1')
  const nvidiaSmi = join(dir, 'nvidia-smi')
  compile(library, ['-shared', '-fPIC'], ['fake_nvml.c'])
  compile(nvidiaSmi, [], ['fake_nvidia_smi.c'])
  return { dir, library, nvidiaSmi }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  console.log(JSON.stringify(buildFakeNvml()))
}
