// An API as a local API of core (client/local.ts): what a call that came as frames from another
// worker, or from a caller in this process, runs. The same steps as an HTTP request (run.ts), with
// the input already JSON (or a GET's query) and no HTTP to parse or to write.
import {
  type LocalApi,
  type LocalCall,
  type LocalOutcome,
  TIMEOUT_HEADER,
} from '@bento/core/adapter'
import { utf8Length } from './access.ts'
import { describeError } from './errors.ts'
import { type InputLimits, newRequestId, parseJson, tooLarge, urlEncoded } from './request.ts'
import { type ApiPlan, type Incoming, type Ran, runApi, settle, streamSource } from './run.ts'

// The same rule as for an incoming `x-request-id` (request.ts).
const SANE_ID = /^[\w\-=]{1,255}$/

class LocalIncoming implements Incoming {
  readonly requestId: string
  readonly local = true
  readonly refused = undefined
  readonly deadlineMs: number | undefined
  readonly signal: AbortSignal
  #headers: Headers | undefined

  constructor(
    private readonly call: LocalCall,
    private readonly api: { method: string; route: string }
  ) {
    const id = call.requestId
    this.requestId = id !== undefined && SANE_ID.test(id) ? id : newRequestId()
    this.deadlineMs = call.timeoutMs
    this.signal = call.signal
  }

  get headers(): Headers {
    if (this.#headers === undefined) {
      const headers = new Headers(this.call.headers)
      headers.set('x-request-id', this.requestId)
      if (this.call.traceparent !== undefined) headers.set('traceparent', this.call.traceparent)
      // What an HTTP call would carry: the caller's remaining time.
      if (this.deadlineMs !== undefined) headers.set(TIMEOUT_HEADER, String(this.deadlineMs))
      this.#headers = headers
    }
    return this.#headers
  }

  get source(): Pick<Request, 'headers' | 'url'> {
    return { headers: this.headers, url: `http://local${this.api.route}` }
  }

  input(limits: InputLimits): unknown {
    const { body, query } = this.call
    if (this.api.method === 'GET')
      return urlEncoded((query ?? '').replace(/^\?/, ''), 'query string')
    if (body === undefined) return undefined
    const size = typeof body === 'string' ? body.length : body.byteLength
    if (size > limits.bodyLimit) throw tooLarge(limits.bodyLimit)
    return typeof body === 'string' ? parseText(body) : parseJson(body, limits.maxDepth)
  }
}

// JSON from a caller in this process, which made it with JSON.stringify: no nesting to fear.
function parseText(text: string): unknown {
  return text === '' ? undefined : JSON.parse(text)
}

/**
 * The local API of `plan`: each call runs its steps and comes back as an outcome.
 * @example
 * registerLocalApis(service.name, new Map([[api.name, localApi(plan)]]))
 */
export function localApi(plan: ApiPlan): LocalApi {
  const { method, route } = plan.api
  return async (call) => {
    const incoming = new LocalIncoming(call, { method, route })
    const ran = await runApi(plan, incoming)
    const outcome = await outcomeOf(ran, plan)
    settle(plan, ran, outcome.status, {
      method,
      bytes: outcome.stream === undefined ? byteLength(outcome.body) : undefined,
      source: incoming,
    })
    return outcome
  }
}

async function outcomeOf(ran: Ran, plan: ApiPlan): Promise<LocalOutcome> {
  if (ran.kind === 'stream') return { status: 200, stream: streamSource(ran, plan) }
  if (ran.kind === 'error') {
    return { status: ran.status, type: 'application/json', body: JSON.stringify(ran.body) }
  }
  const { output } = ran
  try {
    if (output instanceof Response) {
      return {
        status: output.status,
        type: output.headers.get('content-type') ?? '',
        body: new Uint8Array(await output.arrayBuffer()),
      }
    }
    if (output instanceof Blob) {
      return {
        status: 200,
        type: output.type || 'application/octet-stream',
        body: new Uint8Array(await output.arrayBuffer()),
      }
    }
    if (output instanceof ArrayBuffer || ArrayBuffer.isView(output)) {
      const bytes =
        output instanceof ArrayBuffer
          ? new Uint8Array(output)
          : new Uint8Array(output.buffer, output.byteOffset, output.byteLength)
      return { status: 200, type: 'application/octet-stream', body: bytes }
    }
    return { status: 200, type: 'application/json', body: JSON.stringify(output ?? null) }
  } catch (error) {
    // An output that can't be sent (a cycle, a BigInt): the handler's bug, said as a 500.
    const { status, body } = describeError(error, ran.inFlight.requestId, plan.how)
    return { status, type: 'application/json', body: JSON.stringify(body) }
  }
}

function byteLength(body: string | Uint8Array): number {
  return typeof body === 'string' ? utf8Length(body) : body.byteLength
}
