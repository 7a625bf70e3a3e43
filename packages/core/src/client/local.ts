// The APIs of a service as this process can call them without HTTP: what the HTTP adapter
// registers for each service it serves, what the framed transport dispatches a call to (no HTTP
// parsing, no web Request, no routing), and what an in-process dependency calls directly. A local
// call runs the same steps as a request (validation, limits, deadline, metrics, traces); only the
// wire differs. Edge-safe.
import {
  type Answer,
  type CallRequest,
  completeAnswer,
  decodeBody,
  StreamFailed,
  streamedAnswer,
} from './answer.ts'
import { queryOf } from './http.ts'

/** One call as the callee's side receives it. */
export interface LocalCall {
  /** The input: the JSON text of a body (`undefined`: none), or a GET's query string (`?a=1`). */
  body?: string | Uint8Array | undefined
  query?: string | undefined
  requestId?: string | undefined
  traceparent?: string | undefined
  /** The caller's headers beyond those above. */
  headers?: Record<string, string> | undefined
  /** Milliseconds the caller gives it (capped by the API's own timeout). */
  timeoutMs?: number | undefined
  /** Aborted when the caller cancels. */
  signal: AbortSignal
}

/** The next step of a streamed outcome: a chunk, the end, or the body of a failure mid-stream. */
export type ChunkStep =
  | { done: false; value: unknown }
  | { done: true; failed?: undefined }
  | { done: true; failed: unknown }

/** A streamed outcome's chunks, pulled one at a time (nothing is read ahead). */
export interface ChunkSource {
  /** `text`: pieces of text, joined when the call is awaited; `chunks`: values, an array then. */
  readonly mode: 'text' | 'chunks'
  next(): Promise<ChunkStep>
  /** The caller went away: the handler's signal aborts and its iterator is closed. */
  cancel(reason: unknown): Promise<void>
}

/** What a local call came to. */
export type LocalOutcome =
  | { status: number; type: string; body: string | Uint8Array; stream?: undefined }
  | { status: 200; stream: ChunkSource }

/** Runs one API for a local call. */
export type LocalApi = (call: LocalCall) => Promise<LocalOutcome>

/** The local API answering what `/readyz` answers (no API can have this name). */
export const READY_API = '~readyz'

const KEY = Symbol.for('bento.localApis')

function table(): Map<string, Map<string, LocalApi>> {
  const g = globalThis as { [KEY]?: Map<string, Map<string, LocalApi>> }
  g[KEY] ??= new Map()
  return g[KEY]
}

/**
 * Makes `apis` (by API name) the local APIs of the service `service` in this process.
 * @example
 * registerLocalApis('embedder', new Map([['embed', (call) => run(call)]]))
 */
export function registerLocalApis(service: string, apis: ReadonlyMap<string, LocalApi>): void {
  table().set(service, new Map(apis))
}

/**
 * The local APIs of `service` in this process, if its adapter registered them.
 */
export function localApisOf(service: string): ReadonlyMap<string, LocalApi> | undefined {
  return table().get(service)
}

const encoder = new TextEncoder()

/**
 * An outcome as the answer a call returns: a body decoded by its type, a stream's chunks pulled
 * as they are read.
 */
export function outcomeAnswer(outcome: LocalOutcome): Answer {
  if (outcome.stream === undefined) {
    const { status, type, body } = outcome
    const bytes = () => (typeof body === 'string' ? encoder.encode(body) : body)
    return completeAnswer(status, async () =>
      /json/i.test(type) && typeof body === 'string'
        ? body === ''
          ? undefined
          : JSON.parse(body)
        : decodeBody(bytes(), type, status)
    )
  }
  const source = outcome.stream
  let settle = () => {}
  const settled = new Promise<void>((resolve) => {
    settle = resolve
  })
  const chunks = async function* (): AsyncGenerator<unknown> {
    let finished = false
    try {
      for (;;) {
        const step = await source.next()
        if (step.done) {
          finished = true
          if (step.failed !== undefined) throw new StreamFailed(step.failed)
          return
        }
        yield step.value
      }
    } finally {
      if (!finished)
        await source.cancel(new DOMException('the caller stopped reading', 'AbortError'))
      settle()
    }
  }
  return streamedAnswer(chunks, source.mode, settled)
}

/**
 * A call as the callee's side receives it, for a call made in this process.
 */
export function localCallOf(call: CallRequest): LocalCall {
  const local: LocalCall = {
    body: undefined,
    query: undefined,
    requestId: call.requestId,
    traceparent: call.traceparent,
    headers: call.headers,
    timeoutMs: call.timeoutMs,
    signal: call.signal,
  }
  if (call.api.method === 'GET') local.query = queryOf(call.input)
  else if (call.input !== undefined) local.body = JSON.stringify(call.input)
  return local
}
