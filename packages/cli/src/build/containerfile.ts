// The Containerfile of a build: the app folder on the runtime's official image (or a CUDA image
// with the runtime's binary copied in, when a service needs GPUs), run as an unprivileged user.

/** The runtimes an image can run `bento serve` on. */
export type BuildRuntime = 'node' | 'bun' | 'deno'

/** What the Containerfile is written from. */
export interface ContainerfileOptions {
  runtime: BuildRuntime
  /** `--base`: the image to build on, over the defaults below. */
  base: string | undefined
  /** Any service of the graph asks for GPUs. */
  gpu: boolean
  /** The compiled entry, relative to the app folder. */
  entry: string
  port: number
}

/** The official images, pinned to the major versions bento supports. */
export const OFFICIAL_IMAGES: Record<BuildRuntime, { image: string; binary: string }> = {
  node: { image: 'docker.io/library/node:20-bookworm-slim', binary: '/usr/local/bin/node' },
  bun: { image: 'docker.io/oven/bun:1-debian', binary: '/usr/local/bin/bun' },
  deno: { image: 'docker.io/denoland/deno:debian', binary: '/usr/bin/deno' },
}

/** The CUDA runtime image a GPU service's image builds on; the runtime's binary is copied in. */
export const CUDA_IMAGE = 'docker.io/nvidia/cuda:12.6.3-cudnn-runtime-ubuntu22.04'

/** The unprivileged user the image runs as: numeric, so Kubernetes can check `runAsNonRoot`. */
export const IMAGE_USER = 1000

/** Where the app lives in the image. */
export const APP_DIR = '/app'

/**
 * The command that starts the image: `bento serve` of the entry, through the CLI's image entry
 * (image.js), which loads none of the toolchain the build leaves out.
 * @example
 * entrypoint('node', 'bento-entry.mjs') // ['node', '/app/node_modules/bento/dist/image.js', '/app/bento-entry.mjs']
 */
export function entrypoint(runtime: BuildRuntime, entry: string): string[] {
  const image = `${APP_DIR}/node_modules/bento/dist/image.js`
  const serve = [image, `${APP_DIR}/${entry}`]
  if (runtime === 'deno')
    return ['deno', 'run', '--allow-all', '--node-modules-dir=manual', ...serve]
  return [runtime, ...serve]
}

/**
 * The Containerfile's text.
 * @example
 * containerfile({ runtime: 'node', base: undefined, gpu: false, entry: 'bento-entry.mjs', port: 3000 })
 */
export function containerfile(options: ContainerfileOptions): string {
  const { runtime, port } = options
  const official = OFFICIAL_IMAGES[runtime]
  const lines = ['# Written by `bento build`; build it with `podman build` or `docker build` here.']
  if (options.base !== undefined) {
    lines.push(`FROM ${options.base}`)
  } else if (options.gpu) {
    // CUDA's runtime libraries come from NVIDIA's image; the runtime is one binary from its own.
    lines.push(
      `FROM ${official.image} AS runtime`,
      `FROM ${CUDA_IMAGE}`,
      `COPY --from=runtime ${official.binary} /usr/local/bin/${runtime}`
    )
  } else {
    lines.push(`FROM ${official.image}`)
  }
  lines.push(
    `WORKDIR ${APP_DIR}`,
    // Owned by root and read-only to the user that runs it: the code can't be changed at run time.
    `COPY app ${APP_DIR}`,
    'ENV NODE_ENV=production \\',
    `    PORT=${port} \\`,
    '    HOST=0.0.0.0',
    ...(runtime === 'deno' ? ['ENV DENO_DIR=/tmp/deno', 'ENV DENO_NO_UPDATE_CHECK=1'] : []),
    `USER ${IMAGE_USER}:${IMAGE_USER}`,
    `EXPOSE ${port}`,
    // bento drains on SIGTERM: the signal Kubernetes and podman send first.
    'STOPSIGNAL SIGTERM',
    `ENTRYPOINT ${JSON.stringify(entrypoint(runtime, options.entry))}`,
    ''
  )
  return lines.join('\n')
}
