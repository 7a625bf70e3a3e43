import type { StandardSchemaV1 } from '@standard-schema/spec'

export type { StandardSchemaV1 }

/** One validation problem: where (`path`, e.g. `items.0.name`) and what. */
export interface SchemaIssue {
  path: string
  message: string
}

/** The outcome of validating a value with a Standard Schema. */
export type Validation<T> = { ok: true; value: T } | { ok: false; issues: SchemaIssue[] }

/**
 * True when `value` implements Standard Schema v1 (zod, valibot, arktype, ...).
 * @example
 * isStandardSchema(z.string()) // true
 */
export function isStandardSchema(value: unknown): value is StandardSchemaV1 {
  if ((typeof value !== 'object' && typeof value !== 'function') || value === null) return false
  const spec = (value as Partial<StandardSchemaV1>)['~standard']
  return typeof spec === 'object' && spec !== null && typeof spec.validate === 'function'
}

/**
 * Validates `value` with any Standard Schema and flattens the issues to `{ path, message }`.
 * @example
 * const result = await validate(z.object({ name: z.string() }), body)
 * if (!result.ok) return c.json({ issues: result.issues }, 400)
 */
export async function validate<S extends StandardSchemaV1>(
  schema: S,
  value: unknown
): Promise<Validation<StandardSchemaV1.InferOutput<S>>> {
  const result = await schema['~standard'].validate(value)
  if (result.issues === undefined) return { ok: true, value: result.value }
  return {
    ok: false,
    issues: result.issues.map((issue) => ({ path: issuePath(issue), message: issue.message })),
  }
}

function issuePath(issue: StandardSchemaV1.Issue): string {
  if (!issue.path) return ''
  return issue.path
    .map((segment) => String(typeof segment === 'object' ? segment.key : segment))
    .join('.')
}
