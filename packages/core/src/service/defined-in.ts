// Where a service was defined: the file of the code that called service(), read from the call's
// stack (a runtime that runs TypeScript, or Node with source maps, names the source file). `bento
// dev` reloads only the services whose files, or the files they import, changed. Edge-safe: no
// Node modules, and a stack without paths (a bundled worker) gives no file.
const DEFINED = new WeakMap<object, string>()

// "at fn (file:///a/b.ts:3:9)", "at /a/b.ts:3:9", Bun's "at <anonymous> (/a/b.ts:3:9)".
const FRAME = /(?:\(|at )((?:file:\/\/)?\/[^():]+):\d+:\d+\)?\s*$/
// The folder of this module and service(): frames in it are this package's own.
const OWN = pathOf(new URL('.', import.meta.url).href)

function pathOf(location: string): string {
  return location.startsWith('file://') ? decodeURIComponent(location.slice(7)) : location
}

/** Remembers the file of the code that is calling `service()` now. */
export function noteDefinition(service: object): void {
  for (const line of (new Error().stack ?? '').split('\n').slice(1)) {
    const found = FRAME.exec(line)?.[1]
    if (found === undefined) continue
    const path = pathOf(found)
    if (path.startsWith(OWN)) continue
    DEFINED.set(service, path)
    return
  }
}

/** The file `service()` was called from, when its stack named one. */
export function definedIn(service: object): string | undefined {
  return DEFINED.get(service)
}
