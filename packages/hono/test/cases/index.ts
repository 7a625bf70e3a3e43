// The cross-runtime suite: every group, in order. Node runs it through vitest (app.test.ts), Bun and
// Deno through run-cases.ts (runtimes.test.ts).
import type { Group } from '../harness.ts'
import auth from './auth.ts'
import batching from './batching.ts'
import docs from './docs.ts'
import errors from './errors.ts'
import health from './health.ts'
import metrics from './metrics.ts'
import mount from './mount.ts'
import requests from './requests.ts'
import streaming from './streaming.ts'
import traffic from './traffic.ts'

/** Every group of the suite. */
export const groups: Group[] = [
  requests,
  errors,
  streaming,
  traffic,
  batching,
  health,
  metrics,
  docs,
  mount,
  auth,
]

/** Every case's full name (`group › case`), in order. */
export const caseNames: string[] = groups.flatMap((group) =>
  group.cases.map((c) => `${group.name} › ${c.name}`)
)
