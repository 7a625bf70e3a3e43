// The order in which vitest hands files to its workers: the longest first, across every project.
// vitest's own order runs one project after another (and, on a fresh clone, with no timings
// cached, each project's largest files first), so the `test` project's long files started last
// and ran on alone at the end. Longest-first keeps every worker busy until the end of a group.
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

// Seconds each file took alone on the 2-core CI machine (vitest's per-file durations, one file at
// a time); files not listed are short and go after these, largest first. Approximate by nature:
// they only order the start, they decide nothing else.
const SECONDS: Record<string, number> = {
  'test/graph.test.ts': 76,
  'test/telemetry.test.ts': 46,
  'test/container.test.ts': 40,
  'packages/cli/test/build.test.ts': 38,
  'packages/core/test/reload.test.ts': 38,
  'test/e2e-publish.test.ts': 37,
  'test/long-handler.test.ts': 36,
  'packages/core/test/shutdown.test.ts': 32,
  'packages/core/test/restart.test.ts': 21,
  'test/graph-gpu.test.ts': 17,
  'packages/core/test/memory.test.ts': 17,
  'test/access-log.test.ts': 14,
  'packages/cli/test/dev.test.ts': 14,
  'packages/core/test/serve.test.ts': 10,
  'test/publish.test.ts': 9,
  'packages/core/test/serving.test.ts': 9,
  'test/malformed.test.ts': 6,
}

export default class LongestFirst extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const base = await super.sort(files)
    const rank = new Map(base.map((spec, i) => [spec, i]))
    const root = this.ctx.config.root
    const seconds = (spec: TestSpecification) =>
      SECONDS[relative(root, spec.moduleId).replaceAll('\\', '/')] ?? 0
    return [...base].sort(
      (a, b) =>
        a.project.config.sequence.groupOrder - b.project.config.sequence.groupOrder ||
        seconds(b) - seconds(a) ||
        rank.get(a)! - rank.get(b)!
    )
  }
}
