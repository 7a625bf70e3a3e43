// The package must answer the same under Node, Bun and Deno: each runs test/print-probe.mjs on the
// built dist/, on a fixture tree and on this machine.
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import type { ProbeResult } from '../lib/types.ts'
import { requireAddon } from './require-addon.ts'
import { runProbe, runtimes } from './run-probe.ts'

const fixture = fileURLToPath(new URL('./fixtures/docker-v1', import.meta.url))
const names = ['node', 'bun', 'deno'] as const

// Usage changes from one moment to the next on a real machine; everything else must not.
function stable({ cpu, memory }: ProbeResult, root: string) {
  return { cpu, memory: root === '/' ? { ...memory, usage: null } : memory }
}

describe.each([
  ['a fixture tree', fixture],
  ['this machine', '/'],
])('on %s', (_, root) => {
  const results = new Map<string, ProbeResult>()
  const result = (name: (typeof names)[number]) => {
    if (!results.has(name))
      results.set(name, runProbe({ root, gpu: false }, { runtime: runtimes[name] }))
    return results.get(name)!
  }

  it('node, bun and deno report the same cpu and memory', () => {
    const node = stable(result('node'), root)
    expect(node.cpu.host).toBeGreaterThan(0)
    expect(stable(result('bun'), root)).toStrictEqual(node)
    expect(stable(result('deno'), root)).toStrictEqual(node)
  })

  it.for(names)('%s answers from the addon', (name, ctx) => {
    requireAddon(ctx)
    expect(result(name)).toMatchObject({ source: 'native', fallbackReason: null })
  })
})

describe('deno with --allow-read --allow-env --allow-run but not --allow-ffi', () => {
  const restricted = (root: string) =>
    runProbe(
      { root, gpu: false },
      { runtime: [runtimes.deno[0], 'run', '--allow-read', '--allow-env', '--allow-run'] }
    )

  it('falls back, saying why, with the same cpu figures on a fixture tree', (ctx) => {
    requireAddon(ctx)
    const result = restricted(fixture)
    expect(result.source).toBe('fallback')
    expect(result.fallbackReason).toMatch(/--allow-ffi/)
    expect(result.cpu).toStrictEqual(runProbe({ root: fixture, gpu: false }).cpu)
  })

  // Deno lets only --allow-all read /proc and /sys, so here the fallback can't match the addon's
  // figures; the reason must say so instead of passing the host's figures off as the limits.
  it('falls back on this machine and says that /proc and /sys are out of reach', (ctx) => {
    requireAddon(ctx)
    const result = restricted('/')
    expect(result.source).toBe('fallback')
    expect(result.fallbackReason).toMatch(/--allow-ffi/)
    expect(result.fallbackReason).toMatch(/denies reading \/proc and \/sys without --allow-all/)
    expect(result.cpu.cgroup.version).toBeNull()
  })
})
