// Thread-pool sizes for the native libraries a worker may load. Each worker is its own process, so
// without these every library sizes its pool to the whole machine and W workers run W x CPUs
// threads on the same cores.

/**
 * The environment variables that size native thread pools, each set to the worker's thread count
 * unless the user already set it. `fixed` ones always get that value instead.
 * @example
 * const names = THREAD_ENVS.map((entry) => entry.name) // ['OMP_NUM_THREADS', ...]
 */
export const THREAD_ENVS: readonly { name: string; fixed?: string; why: string }[] = [
  {
    name: 'OMP_NUM_THREADS',
    why: 'OpenMP: onnxruntime, llama.cpp/ggml, PyTorch CPU kernels and most BLAS builds',
  },
  { name: 'MKL_NUM_THREADS', why: 'Intel MKL, which keeps its own pool beside OpenMP' },
  { name: 'OPENBLAS_NUM_THREADS', why: 'OpenBLAS built with pthreads ignores OMP_NUM_THREADS' },
  { name: 'NUMEXPR_NUM_THREADS', why: 'numexpr, in Python helpers a worker spawns' },
  { name: 'VECLIB_MAXIMUM_THREADS', why: 'Apple Accelerate (vecLib) on macOS' },
  {
    name: 'TF_NUM_INTRAOP_THREADS',
    why: 'TensorFlow (tfjs-node, libtensorflow): threads in one op',
  },
  {
    name: 'TF_NUM_INTEROP_THREADS',
    fixed: '1',
    why: 'TensorFlow ops run one after another in a worker; parallelism comes from the intra-op pool and from the workers',
  },
  {
    name: 'RAYON_NUM_THREADS',
    why: 'Rust rayon pools inside Node-API addons (tokenizers, candle, ...)',
  },
]
// Not UV_THREADPOOL_SIZE: libuv's pool serves file and DNS I/O, not model math, and shrinking it
// would stall the server.

/**
 * The thread variables for a worker with `threads` threads, leaving out any the user already set
 * (in the environment or the service's `envs`): their value is kept.
 * @example
 * threadEnv(1, { MKL_NUM_THREADS: '4' }) // { OMP_NUM_THREADS: '1', ..., no MKL_NUM_THREADS }
 */
export function threadEnv(
  threads: number,
  userEnv: Record<string, string | undefined>
): Record<string, string> {
  const env: Record<string, string> = {}
  for (const { name, fixed } of THREAD_ENVS) {
    const set = userEnv[name]
    if (set !== undefined && set !== '') continue
    env[name] = fixed ?? String(threads)
  }
  return env
}
