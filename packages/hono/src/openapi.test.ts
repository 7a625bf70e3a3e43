import { api, service } from '@bento/core'
import { describe, expect, it } from 'vitest'
import { z } from 'zod'
import { buildOpenApi } from './openapi.ts'

// biome-ignore lint/suspicious/noExplicitAny: the test walks the document freely
type Operation = Record<string, any>

describe('buildOpenApi', () => {
  const s = service({
    name: 'doc',
    traffic: { timeout: 9 },
    apis: {
      embed: api({
        batchable: true,
        input: z.object({ text: z.string() }),
        handler: (xs) => xs.map(() => [0]),
      }),
      plain: api({ handler: () => 'ok' }),
    },
  })

  it('builds the document without servers, with the given info', async () => {
    const doc = await buildOpenApi(s, {
      openapi: { title: 'Docs', version: '2.0.0', description: 'd' },
    })
    expect(doc.openapi).toBe('3.1.0')
    expect(doc.info).toEqual({ title: 'Docs', version: '2.0.0', description: 'd' })
    expect(doc.servers).toBeUndefined()
  })

  it('documents a batchable API per request, and an API without schemas as accepting anything', async () => {
    const doc = await buildOpenApi(s)
    const embed = doc.paths['/embed']!.post as Operation
    expect(embed.description).toMatch(/batches/)
    expect(embed.requestBody.content['application/json'].schema).toMatchObject({ type: 'object' })
    expect(embed.responses['503'].description).toBe(
      'The worker is at capacity; retry after the given delay.'
    )
    expect(embed.responses['504'].description).toBe('No answer within 9 s.')
    const plain = doc.paths['/plain']!.post as Operation
    expect(plain.requestBody).toEqual({
      required: false,
      content: { 'application/json': { schema: {} } },
    })
    expect(plain.responses['400']).toBeUndefined()
  })
})
