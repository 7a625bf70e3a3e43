import { afterEach, describe, expect, it } from 'vitest'
import { BentoConfigError } from '../errors.ts'
import { callInProcess, parseDependsVar, setPeers, targetFor } from './registry.ts'

describe('parseDependsVar', () => {
  it('reads name=url pairs', () => {
    expect(
      parseDependsVar(' embedder=http://embedder:3000 , ranker=https://r.example/api ')
    ).toEqual(
      new Map([
        ['embedder', 'http://embedder:3000'],
        ['ranker', 'https://r.example/api'],
      ])
    )
    expect(parseDependsVar(undefined).size).toBe(0)
  })

  it.each([
    ['embedder', /not name=url/],
    ['Embedder=http://x', /not name=url/],
    [
      'embedder=embedder:3000',
      /BENTO_DEPENDS embedder must be an http:\/\/ or https:\/\/ base URL/,
    ],
    ['embedder=http://x/?a=1', /without a query/],
  ])('refuses %s, naming the fix', (value, message) => {
    expect(() => parseDependsVar(value)).toThrow(BentoConfigError)
    expect(() => parseDependsVar(value)).toThrow(message)
  })
})

describe('targetFor', () => {
  const env = process.env
  afterEach(() => {
    process.env = env
  })

  it('calls a dependency with no address nowhere, saying how to give it one', async () => {
    const target = targetFor('orphan', undefined)
    await expect(
      target.send({ method: 'POST', path: '/x', headers: {} }, new AbortController().signal)
    ).rejects.toThrow(/no address for the dependency "orphan": serve the graph with bento serve/)
  })

  it('uses an in-process app only for the caller that asked', async () => {
    const caller = {}
    callInProcess(caller, 'local-only', () => new Response('"here"'))
    const response = await targetFor('local-only', undefined, caller).send(
      { method: 'POST', path: '/x', headers: {} },
      new AbortController().signal
    )
    expect(await response.json()).toBe('here')
    await expect(
      targetFor('local-only', undefined, {}).send(
        { method: 'POST', path: '/x', headers: {} },
        new AbortController().signal
      )
    ).rejects.toThrow(/no address/)
  })

  it('prefers a URL over the workers served here, and those over an in-process app', () => {
    const caller = {}
    setPeers('both', ['unix:/nowhere.sock'])
    callInProcess(caller, 'both', () => new Response('{}'))
    expect(targetFor('both', 'http://elsewhere:3000', caller).constructor.name).toBe('Object')
    expect(targetFor('both', undefined, caller).constructor.name).toBe('EndpointPool')
  })
})
