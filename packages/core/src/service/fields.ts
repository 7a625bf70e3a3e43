// One rule per kind of field, used wherever that field is set: by `service()`, `api()` and the
// supervisor's options alike, so a value is never accepted in one place and refused in another.
// Each check reports through `fail`, which words the error for where the value came from.
import { describe } from '../errors.ts'
import { formatBytes, parseBytes } from '../units.ts'

/** Reports a bad field: throws a `BentoConfigError` worded for where the value came from. */
export type Fail = (field: string, problem: string, fix: string) => never

/**
 * Seconds, as BentoML counts them: a positive number; `undefined` gives `fallback`. A value over a
 * day, or a whole multiple of 1000 from 5000 up (30000, 60000: JavaScript's millisecond timeouts),
 * was almost surely meant in milliseconds and is refused saying so.
 * @example
 * const drain = seconds(config.drainTimeout, 30, 'drainTimeout', fail)
 */
export function seconds(value: unknown, fallback: number, field: string, fail: Fail): number {
  if (value === undefined) return fallback
  if (!isPositive(value)) {
    fail(
      field,
      `must be a positive number of seconds, got ${describe(value)}`,
      `use e.g. ${field.split('.').pop()}: ${fallback}`
    )
  }
  if (value > 86_400 || (value >= 5_000 && value % 1_000 === 0)) {
    const span = value > 86_400 ? 'over a day' : `over ${plural(Math.floor(value / 3600), 'hour')}`
    fail(
      field,
      `is ${value} seconds (${span})`,
      `it is in seconds, as in BentoML: write ${value / 1000} for ${value} ms`
    )
  }
  return value
}

/**
 * A size in bytes: a positive number, or a string such as `512Mi`, `1.5Gi`, `2GB`.
 * @example
 * const max = bytes(config.maxMemory, 'maxMemory', fail) // 1610612736 for '1.5Gi'
 */
export function bytes(value: unknown, field: string, fail: Fail): number | undefined {
  if (value === undefined) return undefined
  const parsed =
    typeof value === 'number' || typeof value === 'string' ? parseBytes(value) : undefined
  if (parsed === undefined) {
    fail(
      field,
      `must be bytes or a size such as "512Mi" or "1.5Gi", got ${describe(value)}`,
      `write ${field.split('.').pop()}: "1.5Gi" (${formatBytes(1.5 * 2 ** 30)})`
    )
  }
  return parsed
}

/**
 * An integer of at least `min`; `undefined` gives `fallback`.
 * @example
 * const maxRestarts = integer(restart.maxRestarts, 5, 0, 'restart.maxRestarts', fail)
 */
export function integer(
  value: unknown,
  fallback: number | undefined,
  min: number,
  field: string,
  fail: Fail
): number {
  if (value === undefined && fallback !== undefined) return fallback
  if (!(typeof value === 'number' && Number.isInteger(value) && value >= min)) {
    const what = min === 1 ? 'a positive integer' : `an integer of at least ${min}`
    fail(
      field,
      `must be ${what}, got ${describe(value)}`,
      `use e.g. ${field.split('.').pop()}: ${fallback ?? Math.max(min, 1)}`
    )
  }
  return value
}

/**
 * Environment variables: an object of strings whose names a shell can set.
 * @example
 * const envs = environmentVariables(config.envs, 'envs', fail)
 */
export function environmentVariables(
  value: unknown,
  field: string,
  fail: Fail
): Record<string, string> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(
      field,
      `must be an object of strings, got ${describe(value)}`,
      `write ${field}: { HF_HOME: "/models" }`
    )
  }
  for (const [key, entry] of Object.entries(value)) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
      fail(
        `${field}.${key}`,
        'is not a valid environment variable name',
        'use letters, digits and "_", not starting with a digit'
      )
    }
    if (typeof entry !== 'string') {
      fail(
        `${field}.${key}`,
        `must be a string, got ${describe(entry)}`,
        `write ${key}: "${String(entry)}"`
      )
    }
  }
  return { ...(value as Record<string, string>) }
}

/**
 * A plain object (or `undefined`, giving `{}`), every key of which is one of `known`: a key that is
 * not is refused, naming the nearest known one, so that a typo (`worker: 2`) never goes unnoticed.
 * @example
 * const traffic = settingsObject(config.traffic, 'traffic', ['timeout', 'maxConcurrency'], fail)
 */
export function settingsObject(
  value: unknown,
  field: string,
  known: readonly string[],
  fail: Fail,
  example = `${field}: { ${known[0]}: ... }`
): Record<string, unknown> {
  if (value === undefined) return {}
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    fail(field, `must be an object, got ${describe(value)}`, `write ${example}`)
  }
  knownKeys(value as Record<string, unknown>, known, field, fail)
  return value as Record<string, unknown>
}

/**
 * Refuses a key of `object` that is not in `known`, naming the nearest known one.
 * @example
 * knownKeys({ worker: 2 }, ['workers', 'apis'], '', fail) // fails: "worker ... did you mean workers?"
 */
export function knownKeys(
  object: Record<string, unknown>,
  known: readonly string[],
  where: string,
  fail: Fail
): void {
  for (const key of Object.keys(object)) {
    if (known.includes(key)) continue
    const field = where === '' ? key : `${where}.${key}`
    const near = nearest(key, known)
    fail(
      field,
      `is not a setting${where === '' ? '' : ` of ${where}`}`,
      near === undefined
        ? `remove it; the settings are ${known.join(', ')}`
        : `did you mean ${where === '' ? near : `${where}.${near}`}?`
    )
  }
}

/**
 * The candidate closest to `name` (ignoring case; at most 3 edits, or 40% of its length, or one
 * containing the other), `undefined` when none is close.
 * @example
 * nearest('worker', ['workers', 'apis']) // 'workers'
 */
export function nearest(name: string, candidates: readonly string[]): string | undefined {
  const lower = name.toLowerCase()
  let best: string | undefined
  let bestDistance = Number.POSITIVE_INFINITY
  for (const candidate of candidates) {
    const other = candidate.toLowerCase()
    const d =
      other.includes(lower) || lower.includes(other)
        ? Math.abs(other.length - lower.length)
        : distance(lower, other)
    if (d < bestDistance) {
      best = candidate
      bestDistance = d
    }
  }
  return bestDistance <= Math.max(3, Math.ceil(name.length * 0.4)) ? best : undefined
}

// Levenshtein distance.
function distance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const current = [i]
    for (let j = 1; j <= b.length; j++) {
      current[j] = Math.min(
        previous[j]! + 1,
        current[j - 1]! + 1,
        previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1)
      )
    }
    previous = current
  }
  return previous[b.length]!
}

/** True for a finite number above 0. */
export function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value) && value > 0
}

/** True for an integer above 0. */
export function isPositiveInteger(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value > 0
}

function plural(count: number, word: string): string {
  return `${count} ${word}${count === 1 ? '' : 's'}`
}
