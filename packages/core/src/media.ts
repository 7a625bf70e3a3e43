// What an answer's content type says about how it is read, for every caller (the typed client,
// ctx.depends, Node's Unix-socket fetch): one rule, so they never disagree on what a stream is.

const STREAMED = /^(text\/event-stream|application\/x-ndjson|text\/plain)/i

/**
 * True for an answer read piece by piece (server-sent events, JSON lines, text): it keeps its
 * worker busy until it ends, and no total size applies to it.
 * @example
 * isStreamed('text/event-stream; charset=utf-8') // true
 */
export function isStreamed(contentType: string): boolean {
  return STREAMED.test(contentType)
}
