// The module every worker process runs: it loads the user's entry (BENTO_ENTRY) and serves it,
// a service through its Hono app, a plain app through its own fetch.
import { readEnv } from '@bento/core'
import { runWorker } from '@bento/core/worker'
import { toHono } from '@bento/hono'
import { loadEntry } from './load.ts'

const file = readEnv('BENTO_ENTRY')
if (file === undefined) {
  throw new Error(
    'bento worker: BENTO_ENTRY is not set; workers are started by `bento dev` or `bento serve`'
  )
}
// BENTO_SOURCE: the file the user named, for messages, when BENTO_ENTRY is its compiled form.
const entry = await loadEntry(file, readEnv('BENTO_SOURCE'))
if (entry.kind === 'service') {
  const app = toHono(entry.service)
  await runWorker({ fetch: app.fetch, service: entry.service })
} else {
  await runWorker({ fetch: entry.fetch })
}
