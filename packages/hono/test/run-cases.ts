// Runs the cross-runtime suite in whatever runtime starts it (`bun test/run-cases.ts`,
// `deno run --allow-read --allow-env test/run-cases.ts`), one case at a time, and prints one line
// of JSON: each case's name, whether it passed, how long it took and why it failed. Exits 1 when
// any case failed.
import { groups } from './cases/index.ts'

const CASE_TIMEOUT_MS = 15_000
const g = globalThis as {
  Bun?: unknown
  Deno?: { version: { deno: string }; exit(code: number): never }
}
const runtime = g.Deno
  ? `deno ${g.Deno.version.deno}`
  : g.Bun
    ? `bun ${(g.Bun as { version: string }).version}`
    : `node ${process.version}`

const results: Array<{ name: string; ok: boolean; ms: number; error?: string }> = []
for (const group of groups) {
  for (const c of group.cases) {
    const name = `${group.name} › ${c.name}`
    const started = performance.now()
    let timer: ReturnType<typeof setTimeout> | undefined
    try {
      await Promise.race([
        Promise.resolve().then(c.run),
        new Promise((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`timed out after ${CASE_TIMEOUT_MS} ms`)),
            CASE_TIMEOUT_MS
          )
        }),
      ])
      results.push({ name, ok: true, ms: Math.round(performance.now() - started) })
    } catch (error) {
      const text = error instanceof Error ? (error.stack ?? error.message) : String(error)
      results.push({ name, ok: false, ms: Math.round(performance.now() - started), error: text })
    } finally {
      clearTimeout(timer)
    }
  }
}

const failed = results.filter((r) => !r.ok).length
console.log(`BENTO_CASES ${JSON.stringify({ runtime, results })}`)
console.error(`${runtime}: ${results.length - failed} passed, ${failed} failed`)
// Open handles (a keep-alive timer in a dependency, say) must not keep the runner alive.
if (g.Deno) g.Deno.exit(failed > 0 ? 1 : 0)
else process.exit(failed > 0 ? 1 : 0)
