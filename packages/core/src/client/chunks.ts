// Reading a response as a stream of chunks, by its content type: server-sent events (each event's
// data, JSON-decoded: a bento client asks the server to JSON-encode every chunk, strings too, so
// that "42" the string stays a string), newline-delimited JSON, text, or bytes.

/** One server-sent event as read off the wire. */
export interface ServerEvent {
  event: string
  data: string
}

/** The header a bento client sends so that every SSE `data:` is JSON, strings included. */
export const STREAM_JSON_HEADER = 'bento-stream'

const decoder = () => new TextDecoder()

/**
 * The events of a `text/event-stream` body, as the HTML standard parses them (comments and
 * `id:`/`retry:` fields are skipped: a call does not reconnect).
 * @example
 * for await (const { event, data } of serverEvents(response.body!)) console.log(event, data)
 */
export async function* serverEvents(body: ReadableStream<Uint8Array>): AsyncGenerator<ServerEvent> {
  const text = decoder()
  let buffer = ''
  let event = ''
  let data: string[] = []
  const dispatch = (line: string): ServerEvent | undefined => {
    if (line === '') {
      if (data.length === 0) {
        event = ''
        return undefined
      }
      const out = { event: event || 'message', data: data.join('\n') }
      event = ''
      data = []
      return out
    }
    if (line.startsWith(':')) return undefined
    const colon = line.indexOf(':')
    const field = colon === -1 ? line : line.slice(0, colon)
    let value = colon === -1 ? '' : line.slice(colon + 1)
    if (value.startsWith(' ')) value = value.slice(1)
    if (field === 'event') event = value
    else if (field === 'data') data.push(value)
    return undefined
  }
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += text.decode(bytes, { stream: true })
    let newline = buffer.search(/\r\n|\r|\n/)
    while (newline !== -1) {
      const line = buffer.slice(0, newline)
      const skip = buffer.startsWith('\r\n', newline) ? 2 : 1
      buffer = buffer.slice(newline + skip)
      const out = dispatch(line)
      if (out) yield out
      newline = buffer.search(/\r\n|\r|\n/)
    }
  }
  buffer += text.decode()
  if (buffer !== '') dispatch(buffer)
  const last = dispatch('')
  if (last) yield last
}

/**
 * The lines of a body, each parsed as JSON (`application/x-ndjson`).
 * @example
 * for await (const row of jsonLines(response.body!)) rows.push(row)
 */
export async function* jsonLines(body: ReadableStream<Uint8Array>): AsyncGenerator<unknown> {
  const text = decoder()
  let buffer = ''
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    buffer += text.decode(bytes, { stream: true })
    let newline = buffer.indexOf('\n')
    while (newline !== -1) {
      const line = buffer.slice(0, newline).trim()
      buffer = buffer.slice(newline + 1)
      if (line !== '') yield JSON.parse(line)
      newline = buffer.indexOf('\n')
    }
  }
  const rest = (buffer + text.decode()).trim()
  if (rest !== '') yield JSON.parse(rest)
}

/**
 * A body's text, chunk by chunk as it arrives.
 * @example
 * for await (const piece of textPieces(response.body!)) process.stdout.write(piece)
 */
export async function* textPieces(body: ReadableStream<Uint8Array>): AsyncGenerator<string> {
  const text = decoder()
  for await (const bytes of body as unknown as AsyncIterable<Uint8Array>) {
    const piece = text.decode(bytes, { stream: true })
    if (piece !== '') yield piece
  }
  const rest = text.decode()
  if (rest !== '') yield rest
}
