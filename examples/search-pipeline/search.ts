// The API tier: on every CPU, it finds the reviews that match a query (tokenising and ranking,
// plain CPU work) and asks the model tier for each one's sentiment, all at once; the model
// batches them. `searchService()` puts it in front of either variant of the model.
import { api, service } from 'bento'
import { z } from 'zod'
import type { classifier } from './model.ts'
import { REVIEWS } from './reviews.ts'

const words = (text: string) => text.toLowerCase().match(/[a-z']+/g) ?? []

/** Reviews sharing words with the query, best first. */
function rank(query: string, limit: number): string[] {
  const wanted = new Set(words(query))
  return REVIEWS.map((text) => ({ text, hits: words(text).filter((w) => wanted.has(w)).length }))
    .filter((r) => r.hits > 0)
    .sort((a, b) => b.hits - a.hits)
    .slice(0, limit)
    .map((r) => r.text)
}

export function searchService(model: ReturnType<typeof classifier>) {
  return service({
    name: 'search',
    workers: 'cpu_count',
    depends: { model },
    apis: {
      search: api({
        description: 'Reviews matching a query, each with its sentiment.',
        depends: { model },
        input: z.object({
          q: z.string().min(1).max(200),
          sentiment: z.enum(['positive', 'negative']).optional(),
          limit: z.number().int().min(1).max(20).default(5),
        }),
        async handler({ q, sentiment, limit }, ctx) {
          const found = rank(q, limit)
          // One call per review, in parallel: typed from the model's schemas and handler.
          const labelled = await Promise.all(
            found.map(async (text) => ({ text, ...(await ctx.depends.model.classify({ text })) }))
          )
          const hits = labelled.filter((hit) => sentiment === undefined || hit.label === sentiment)
          return { q, hits }
        },
      }),
    },
  })
}
