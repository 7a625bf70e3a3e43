// Text that a log line carries from outside (a request's path, a worker's output) has its control
// characters written out as `\xNN`: a raw line break in it would forge a log line of its own, an
// escape sequence would recolour or rewrite the operator's terminal. Tabs stay. Edge-safe.

// C0 but tab, DEL, and C1 (which some terminals also read as controls): matching them is the point.
// biome-ignore lint/suspicious/noControlCharactersInRegex: these are the characters to escape
const CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f-\u009f]/
const CONTROLS = new RegExp(CONTROL.source, 'g')

/**
 * `text` with each control character but tab written as `\xNN`.
 * @example
 * safeText('/a%0a[bento] forged') // '/a\\x0a[bento] forged' once decoded to a line break
 */
export function safeText(text: string): string {
  if (!CONTROL.test(text)) return text
  return text.replace(CONTROLS, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`)
}
