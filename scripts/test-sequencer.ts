// The order in which vitest hands files to its workers: the longest first, across every project.
// vitest's own order runs one project after another (and, on a fresh clone, with no timings
// cached, each project's largest files first), so the `test` project's long files started last
// and ran on alone at the end. Longest-first keeps every worker busy until the end of a group.
import { relative } from 'node:path'
import { BaseSequencer, type TestSpecification } from 'vitest/node'

// Seconds each file took in a parallel run of the whole suite on the 2-core CI machine (vitest's
// per-file durations, 4 files at a time); files not listed take under 4 s and go after these,
// largest first. Approximate by nature: they only order the start, they decide nothing else.
const SECONDS: Record<string, number> = {
  'test/graph.test.ts': 99,
  'test/telemetry.test.ts': 84,
  'test/e2e-publish.test.ts': 81,
  'packages/cli/test/build.test.ts': 69,
  'test/container.test.ts': 62,
  'packages/core/test/restart.test.ts': 62,
  'packages/core/test/reload.test.ts': 62,
  'packages/core/test/shutdown.test.ts': 48,
  'test/long-handler.test.ts': 44,
  'packages/core/test/memory.test.ts': 39,
  'test/publish.test.ts': 31,
  'test/graph-gpu.test.ts': 26,
  'packages/cli/test/dev.test.ts': 26,
  'examples/onnx-classifier/service.test.ts': 22,
  'test/access-log.test.ts': 21,
  'packages/cli/test/errors.test.ts': 19,
  'packages/core/test/serve.test.ts': 17,
  'packages/core/test/serving.test.ts': 17,
  'examples/gpu-per-worker/service.test.ts': 16,
  'native/test/addon.test.ts': 14,
  'packages/hono/test/browser.test.ts': 14,
  'test/malformed.test.ts': 13,
  'packages/cli/test/info.test.ts': 12,
  'examples/hello/service.test.ts': 12,
  'packages/cli/test/serve.test.ts': 12,
  'packages/hono/test/runtimes.test.ts': 11,
  'examples/mount-into-hono/app.test.ts': 11,
  'packages/core/src/supervisor/supervisor.test.ts': 10,
  'native/lib/differential.test.ts': 9,
  'test/service-wide.test.ts': 8,
  'packages/core/test/cgroup.test.ts': 8,
  'native/test/cgroup.test.ts': 8,
  'test/summary-reporter.test.ts': 7,
  'native/test/runtimes.test.ts': 7,
  'packages/hono/test/workerd.test.ts': 6,
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
