// Splitting byte and text streams into lines: worker output is logged line by line with its
// worker's prefix, and IPC messages are one JSON object per line.

/** Receives text in pieces and calls `onLine` for each complete line (without its newline). */
export interface LineSplitter {
  push(text: string): void
  /** Emits what is left as a last line, if anything. */
  end(): void
}

/**
 * A splitter that calls `onLine` per line; a line longer than `maxLength` is cut into pieces of
 * that length, so a worker printing megabytes without a newline can't exhaust the supervisor.
 * @example
 * const split = lineSplitter((line) => console.log(`[worker 1] ${line}`))
 * split.push('a\nb')
 * split.end()
 */
export function lineSplitter(onLine: (line: string) => void, maxLength = 1 << 20): LineSplitter {
  let rest = ''
  return {
    push(text) {
      rest += text
      let start = 0
      for (let at = rest.indexOf('\n'); at !== -1; at = rest.indexOf('\n', start)) {
        onLine(rest.slice(start, at).replace(/\r$/, ''))
        start = at + 1
      }
      rest = rest.slice(start)
      while (rest.length > maxLength) {
        onLine(rest.slice(0, maxLength))
        rest = rest.slice(maxLength)
      }
    },
    end() {
      if (rest !== '') onLine(rest)
      rest = ''
    },
  }
}

/**
 * Reads a byte stream to its end, calling `onLine` per UTF-8 line; resolves when it ends (or
 * fails, which for a child's output means the child is gone).
 */
export async function pumpLines(
  stream: AsyncIterable<Uint8Array>,
  onLine: (line: string) => void
): Promise<void> {
  const decoder = new TextDecoder()
  const split = lineSplitter(onLine)
  try {
    for await (const chunk of stream) split.push(decoder.decode(chunk, { stream: true }))
  } catch {
    // A pipe torn down with its process; what was read is still logged below.
  }
  split.push(decoder.decode())
  split.end()
}
