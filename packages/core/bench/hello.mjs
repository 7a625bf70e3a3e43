// The handler every benchmark serves, the same under our supervisor and under each runtime's own
// cluster: `/` is hello world; `/index` says which worker answered; `/cpu?ms=N` blocks the event
// loop for N ms, as a model running in JavaScript would.
import process from 'node:process'

const index = process.env.BENTO_WORKER_INDEX ?? process.env.RAW_INDEX ?? String(process.pid)

function busy(ms) {
  const end = Date.now() + ms
  while (Date.now() < end) {}
}

export function fetch(request) {
  const url = request.url
  if (url.endsWith('/')) return new Response('Hello, World!')
  if (url.includes('/index')) return new Response(index)
  if (url.includes('/cpu')) {
    busy(Number(new URL(url).searchParams.get('ms') ?? 100))
    return new Response(index)
  }
  return new Response('not found', { status: 404 })
}

// For `deno serve`.
export default { fetch }
