import { describe, expect, expectTypeOf, it } from 'vitest'
import { z } from 'zod'
import { BentoConfigError } from '../errors.ts'
import { api } from './apis.ts'
import { depends, isDependency } from './depends.ts'
import { serviceGraph } from './graph.ts'
import { service } from './service.ts'
import type { Client, PendingCall, ServiceConfig } from './types.ts'

const embedder = service({
  name: 'embedder',
  apis: {
    embed: api({
      input: z.object({ text: z.string() }),
      handler: ({ text }) => ({ vector: [text.length, 1] }),
    }),
    embedMany: api({
      batchable: true,
      input: z.object({ text: z.string() }),
      output: z.object({ n: z.number() }),
      handler: (inputs) => inputs.map((i) => ({ n: i.text.length })),
    }),
    tokens: api({
      input: z.object({ text: z.string() }),
      handler: async function* ({ text }) {
        for (const token of text.split(' ')) yield { token }
      },
    }),
    ping: api({ handler: () => 'pong' as const }),
  },
})

function configError(fn: () => unknown): BentoConfigError {
  try {
    fn()
  } catch (error) {
    expect(error).toBeInstanceOf(BentoConfigError)
    return error as BentoConfigError
  }
  throw new Error('expected a BentoConfigError')
}

describe('depends: declaring', () => {
  it('takes the shape of the docs: a service-level table, each call untyped', () => {
    const search = service({
      name: 'search',
      workers: 'cpu_count',
      depends: { embedder },
      apis: {
        search: api({
          input: z.object({ q: z.string() }),
          handler: async ({ q }, ctx) => {
            const { vector } = await ctx.depends.embedder!.embed!({ text: q })
            return { vector }
          },
        }),
      },
    })
    expect(search.depends).toEqual({ embedder: { service: embedder, url: undefined } })
  })

  it('types ctx.depends from the callee when the API lists its dependencies', () => {
    const search = service({
      name: 'search',
      apis: {
        search: api({
          depends: { embedder, remote: depends(embedder, { url: 'http://embedder:3000' }) },
          input: z.object({ q: z.string() }),
          handler: async ({ q }, ctx) => {
            const embedded = await ctx.depends.embedder.embed({ text: q })
            expectTypeOf(embedded).toEqualTypeOf<{ vector: number[] }>()
            // A batchable API is called with one input and answers with one output.
            const one = await ctx.depends.remote.embedMany({ text: q }, { signal: ctx.signal })
            expectTypeOf(one).toEqualTypeOf<{ n: number }>()
            expectTypeOf(ctx.depends.embedder.tokens({ text: q })).toEqualTypeOf<
              AsyncIterable<{ token: string }>
            >()
            expectTypeOf(ctx.depends.embedder.ping).parameter(0).toEqualTypeOf<unknown>()
            // @ts-expect-error: embed takes { text: string }
            void ctx.depends.embedder.embed({ q })
            // @ts-expect-error: embedder has no API "classify"
            void ctx.depends.embedder.classify
            // @ts-expect-error: no dependency is called "ranker"
            void ctx.depends.ranker
            return embedded
          },
        }),
      },
    })
    expect(Object.keys(search.depends)).toEqual(['embedder', 'remote'])
    expect(search.depends.remote!.url).toBe('http://embedder:3000')
  })

  it('gives programs the same client type', () => {
    type C = Client<typeof embedder>
    expectTypeOf<C['embed']>().returns.toEqualTypeOf<Promise<{ vector: number[] }>>()
    expectTypeOf<C['tokens']>().returns.toEqualTypeOf<AsyncIterable<{ token: string }>>()
    expectTypeOf<ReturnType<PendingCall<number>['then']>>().toMatchTypeOf<PromiseLike<unknown>>()
  })

  it('marks depends() and checks its url', () => {
    expect(isDependency(depends(embedder))).toBe(true)
    expect(isDependency(embedder)).toBe(false)
    const error = configError(() => depends(embedder, { url: 'embedder:3000' }))
    expect(error.message).toContain('depends("embedder"') // names the call
    expect(error.message).toContain('http://')
  })

  it('keeps the headers for calls to its url, refusing ones that would split the request', () => {
    const dependency = depends(embedder, {
      url: 'http://embedder:3000',
      headers: { authorization: 'Bearer t' },
    })
    expect(dependency.headers).toEqual({ authorization: 'Bearer t' })
    expect(Object.isFrozen(dependency.headers)).toBe(true)
    const split = configError(() =>
      depends(embedder, { headers: { authorization: 'Bearer t\r\nx-admin: 1' } })
    )
    expect(split.message).toMatch(
      /depends\("embedder", \{ headers \}\) authorization must be a string without line breaks/
    )
    expect(configError(() => depends(embedder, { headers: { 'a b': 'x' } })).message).toMatch(
      /has a header name that is not one: "a b"/
    )
  })
})

describe('depends: bad declarations fail before anything starts', () => {
  const make = (depends: unknown) =>
    service({ name: 'search', depends, apis: { a: { handler: () => 1 } } } as ServiceConfig)

  it('refuses a value that is not a service, naming the dependency', () => {
    const error = configError(() => make({ embedder: { name: 'embedder' } }))
    expect(error.field).toBe('depends.embedder')
    expect(error.message).toMatch(/must be a service or depends\(service/)
  })

  it('explains an undefined dependency (a circular import)', () => {
    const error = configError(() => make({ embedder: undefined }))
    expect(error.message).toContain('two modules importing each other')
  })

  it('refuses a bare service where a table belongs', () => {
    expect(configError(() => make(embedder)).message).toContain('got a service')
  })

  it('refuses one name for two services', () => {
    const other = service({ name: 'other', apis: { a: { handler: () => 1 } } })
    const error = configError(() =>
      service({
        name: 'search',
        depends: { embedder },
        apis: { a: api({ depends: { embedder: other }, handler: () => 1 }) },
      })
    )
    expect(error.field).toBe('apis.a.depends.embedder')
    expect(error.message).toContain('already names "embedder"')
  })
})

describe('serviceGraph', () => {
  const leaf = (name: string, deps = {}) =>
    service({ name, depends: deps, apis: { a: { handler: () => 1 } } } as ServiceConfig)

  it('orders dependencies first, once each, and leaves out what a url serves', () => {
    const tokenizer = leaf('tokenizer')
    const remoteOnly = leaf('remote-only', { tokenizer })
    const model = leaf('model', { tokenizer })
    const ranker = leaf('ranker', { model, tokenizer })
    const api = leaf('api', {
      ranker,
      model,
      far: depends(remoteOnly, { url: 'http://far:3000' }),
    })
    expect(serviceGraph([api]).map((s) => s.name)).toEqual(['tokenizer', 'model', 'ranker'])
  })

  it('finds a cycle, naming its path', () => {
    const a1 = leaf('a')
    const b = leaf('b', { a: a1 })
    const c = leaf('c', { b })
    const a = leaf('a', { c })
    const error = configError(() => serviceGraph([a]))
    expect(error.message).toContain('makes a cycle: a -> c -> b -> a')
    expect(configError(() => serviceGraph([leaf('self', { me: leaf('self') })])).message).toContain(
      'self -> self'
    )
  })

  it('refuses two different services with one name', () => {
    const x1 = leaf('x')
    const x2 = leaf('x')
    const error = configError(() => serviceGraph([leaf('api', { one: x1, two: x2 })]))
    expect(error.message).toContain('service "x": name is the name of two different services')
  })
})
