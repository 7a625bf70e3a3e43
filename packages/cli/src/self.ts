// Lets a service file import `bento` (or `@bento/core`, `@bento/hono`) when its project has not
// installed them, as when `npx bento dev` or `bunx bento dev` runs in a directory holding nothing
// but service.ts: the CLI's own installation is added to NODE_PATH, which Node's require and Bun
// read, plus a Node module hook for ESM imports. The project's own copy still wins when present.
import Module, { createRequire, register } from 'node:module'
import { basename, delimiter, dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { runtimeName } from '@bento/core/adapter'

let done = false

function installedFor(entry: string): boolean {
  try {
    createRequire(entry).resolve('bento')
    return true
  } catch {
    return false
  }
}

/**
 * The node_modules folders that hold this CLI and its dependencies.
 * @example
 * selfModulePaths() // ['/home/me/.npm/_npx/1a2b/node_modules', ...]
 */
export function selfModulePaths(): string[] {
  const packageDir = fileURLToPath(new URL('..', import.meta.url)).replace(/\/$/, '')
  const parent = dirname(packageDir)
  const paths = [join(packageDir, 'node_modules')]
  if (basename(parent) === 'node_modules') paths.unshift(parent)
  return paths
}

/**
 * NODE_PATH with the CLI's folders added; workers inherit it, Bun reads it at start-up.
 * @example
 * spawn(bun, args, { env: { ...process.env, NODE_PATH: nodePathWithSelf(process.env.NODE_PATH) } })
 */
export function nodePathWithSelf(current: string | undefined): string {
  const have = (current ?? '').split(delimiter).filter(Boolean)
  return [...have, ...selfModulePaths().filter((p) => !have.includes(p))].join(delimiter)
}

/**
 * Installs the fallback once per process, unless `entry`'s own project has `bento` installed: on
 * Node a module hook makes every later import cross to the hooks thread, which a worker should
 * not pay for nothing. Deno resolves bare specifiers only through `npm:` or an import map, so
 * there a service file writes `import { service } from 'npm:bento'`.
 * @example
 * resolveBentoFromHere('/tmp/empty/service.ts')
 * await import('/tmp/empty/service.ts')
 */
export function resolveBentoFromHere(entry?: string): void {
  if (done) return
  done = true
  if (entry !== undefined && installedFor(entry)) return
  const runtime = runtimeName()
  if (runtime === 'deno') return
  process.env.NODE_PATH = nodePathWithSelf(process.env.NODE_PATH)
  // Bun read NODE_PATH when it started (bin.ts restarts it with the variable set when needed).
  if (runtime === 'bun')
    return // Node reads NODE_PATH once at start-up; _initPaths re-reads it for require() (tsx compiles .ts
    // files outside a "type": "module" package to CommonJS).
  ;(Module as unknown as { _initPaths(): void })._initPaths()
  register(new URL('./self-hooks.js', import.meta.url))
}
