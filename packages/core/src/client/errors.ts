// The error of a call to another service that did not succeed: the callee's own status and JSON
// body when it answered, 503 when nothing answered (no worker, the connection failed twice), 504
// when the caller's time ran out. A handler may catch it and decide; if it doesn't, the adapter
// answers 503 naming the dependency, with the callee's answer inside.

/**
 * A call to another service that failed.
 * @example
 * try {
 *   await ctx.depends.embedder.embed({ text })
 * } catch (error) {
 *   if (error instanceof CallError && error.status === 422) return { vector: null }
 *   throw error
 * }
 */
export class CallError extends Error {
  override name = 'CallError'
  /** The service called. */
  readonly service: string
  /** The API called. */
  readonly api: string
  /** The callee's status; 503 when no worker answered, 504 when the call's time ran out. */
  readonly status: number
  /** The callee's response body (parsed JSON when it was JSON); absent when nothing answered. */
  readonly body: unknown

  constructor(
    details: { service: string; api: string; status: number; body?: unknown; message: string },
    options?: { cause?: unknown }
  ) {
    super(details.message, options)
    this.service = details.service
    this.api = details.api
    this.status = details.status
    this.body = details.body
  }
}

/**
 * True for a `CallError` from any copy of this package.
 * @example
 * if (isCallError(error)) console.log(error.service, error.status)
 */
export function isCallError(error: unknown): error is CallError {
  return (
    typeof error === 'object' &&
    error !== null &&
    (error as { name?: unknown }).name === 'CallError' &&
    typeof (error as CallError).service === 'string'
  )
}
