// The module every process `bento dev` and `bento serve` start runs: it loads the user's entry and
// serves it through @bento/hono, or (as the deployment process) describes it and runs its
// onDeployment hooks. All of that is @bento/core's runEntry(); this only says how to import a
// module and how a service becomes a fetch handler.
import { readEnv, VARS } from '@bento/core/adapter'
import { runEntry } from '@bento/core/worker'
import { toHono } from '@bento/hono'
import { importModule } from './load.ts'

await runEntry({
  load: (file) => importModule(file, readEnv(VARS.source) ?? file),
  toFetch: (service) => toHono(service).fetch,
})
