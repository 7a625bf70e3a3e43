// The same "greet" service written with zod, valibot and arktype, for the cases that must hold
// whatever the schema library.
import { api, service } from '@bento/core'
import { type } from 'arktype'
import * as v from 'valibot'
import { z } from 'zod'
import { unique } from './harness.ts'

/** The schema libraries every library-dependent case runs with. */
export const libraries = ['zod', 'valibot', 'arktype'] as const
export type Library = (typeof libraries)[number]

const schemas = {
  zod: () => ({
    input: z.object({
      name: z.string().min(1),
      times: z.number().int().optional(),
      tags: z.array(z.object({ label: z.string() })).optional(),
    }),
    output: z.object({ message: z.string() }),
  }),
  valibot: () => ({
    input: v.object({
      name: v.pipe(v.string(), v.minLength(1)),
      times: v.optional(v.pipe(v.number(), v.integer())),
      tags: v.optional(v.array(v.object({ label: v.string() }))),
    }),
    output: v.object({ message: v.string() }),
  }),
  arktype: () => ({
    input: type({
      name: 'string > 0',
      'times?': 'number.integer',
      'tags?': type({ label: 'string' }).array(),
    }),
    output: type({ message: 'string' }),
  }),
}

/**
 * A service with `greet` (POST, input and output schemas) and `hello` (GET, query input), written
 * with `library`.
 * @example
 * const app = toHono(greeter('zod'))
 */
export function greeter(library: Library) {
  const { input, output } = schemas[library]()
  return service({
    name: unique(`greeter-${library}`),
    apis: {
      greet: api({
        input,
        output,
        description: 'Greets someone.',
        handler: (value: { name: string; times?: number }) => ({
          message: `Hello, ${value.name}!`.repeat(value.times ?? 1),
        }),
      }),
      hello: api({
        method: 'GET',
        input,
        handler: (value: { name: string }) => ({ message: `Hi ${value.name}` }),
      }),
    },
  })
}
