import { describe, expect, it } from 'vitest'
import { INTERNAL_TOKEN_HEADER, tokenRequired } from './internal-token.ts'

describe('tokenRequired', () => {
  const token = 'k3Jx9-graph-token-of-32-characters'
  const fetch = tokenRequired(() => new Response('served'), token)
  const call = (headers: Record<string, string>) =>
    fetch(new Request('http://127.0.0.1/embed', { method: 'POST', headers }))

  it("serves a call that carries the graph's token", async () => {
    const response = await call({ [INTERNAL_TOKEN_HEADER]: token })
    expect(response.status).toBe(200)
    expect(await response.text()).toBe('served')
  })

  it('answers 401 in JSON to a call without it, with another, or with a part of it', async () => {
    for (const headers of [
      {} as Record<string, string>,
      { [INTERNAL_TOKEN_HEADER]: '' },
      { [INTERNAL_TOKEN_HEADER]: token.slice(0, -1) },
      { [INTERNAL_TOKEN_HEADER]: `${token.slice(0, -1)}X` },
      { authorization: `Bearer ${token}` },
    ]) {
      const response = await call(headers)
      expect(response.status, JSON.stringify(headers)).toBe(401)
      expect(response.headers.get('connection')).toBe('close')
      expect((await response.json()).error).toMatch(/serves the services of one bento graph only/)
    }
  })
})
