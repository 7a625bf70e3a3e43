import { type } from 'arktype'
import * as v from 'valibot'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { hasBinary, toJsonSchema } from './json-schema.ts'

describe('toJsonSchema', () => {
  it('describes what JSON Schema cannot express loosely instead of failing', async () => {
    expect(await toJsonSchema(z.object({ when: z.date() }), 'input')).toMatchObject({
      properties: { when: {} },
    })
    expect(await toJsonSchema(type({ when: 'Date' }), 'input')).toMatchObject({
      properties: { when: { type: 'string', format: 'date-time' } },
    })
    expect(await toJsonSchema(z.string().transform(Number), 'output')).toEqual({})
  })

  it('converts input and output separately', async () => {
    const schema = type({ n: 'string.numeric.parse' })
    expect(await toJsonSchema(schema, 'input')).toMatchObject({
      properties: { n: { type: 'string' } },
    })
    expect(await toJsonSchema(schema, 'output')).toMatchObject({
      properties: { n: { type: 'number' } },
    })
  })

  it('uses valibot through @valibot/to-json-schema', async () => {
    expect(await toJsonSchema(v.object({ n: v.optional(v.number(), 3) }), 'input')).toEqual({
      type: 'object',
      properties: { n: { type: 'number', default: 3 } },
      required: [],
    })
  })

  it('lets a custom converter answer first, and falls back to {}', async () => {
    const custom = () => ({ type: 'string', title: 'mine' })
    expect(await toJsonSchema(z.number(), 'input', custom)).toEqual({
      type: 'string',
      title: 'mine',
    })
    const unknown = { '~standard': { version: 1, vendor: 'other', validate: () => ({ value: 1 }) } }
    expect(await toJsonSchema(unknown as never, 'input')).toEqual({})
  })
})

describe('hasBinary', () => {
  it('finds a binary string at any depth', () => {
    expect(
      hasBinary({
        type: 'object',
        properties: { a: { anyOf: [{ type: 'string', format: 'binary' }] } },
      })
    ).toBe(true)
    expect(hasBinary({ type: 'object', properties: { a: { type: 'string' } } })).toBe(false)
  })
})
