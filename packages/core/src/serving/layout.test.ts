import { describe, expect, it } from 'vitest'
import { BentoConfigError } from '../errors.ts'
import { DEFAULTS } from '../service/defaults.ts'
import type { ServiceSettings } from '../service/types.ts'
import type { EntryDescription, ServiceDescription } from './describe.ts'
import { layoutGraph, localDependencies, operatorAddresses, poolEnv } from './layout.ts'

const settings = { ...DEFAULTS } as unknown as ServiceSettings
const svc = (name: string, depends: ServiceDescription['depends'] = {}): ServiceDescription => ({
  name,
  settings,
  apis: [],
  onDeployment: false,
  depends,
})

// api -> ranker -> model, api -> model, api -> far (served elsewhere by its url)
const model = svc('model')
const ranker = svc('ranker', { model: { service: 'model' } })
const far = svc('far')
const api = svc('api', {
  ranker: { service: 'ranker' },
  model: { service: 'model' },
  far: { service: 'far', url: 'http://far:3000' },
})
const description: EntryDescription = {
  kind: 'service',
  services: [api],
  graph: [model, ranker, far],
}

describe('layoutGraph', () => {
  it('serves every dependency without an address here, dependencies first', () => {
    const layout = layoutGraph(description)
    expect(layout.local.map((s) => s.name)).toEqual(['model', 'ranker'])
    expect(layout.remote).toEqual(new Map([['far', 'http://far:3000']]))
    expect(localDependencies(layout, [api])).toEqual(['ranker', 'model'])
  })

  it("tells each pool's processes what they serve and whose workers their calls wait for", () => {
    const layout = layoutGraph(description)
    expect(poolEnv(layout, [api], 'api')).toEqual({
      BENTO_PEERS: 'ranker,model',
      OTEL_SERVICE_NAME: 'api',
    })
    expect(poolEnv(layout, [model], 'model', 'model')).toEqual({
      BENTO_SERVICE: 'model',
      BENTO_PEERS: '',
      OTEL_SERVICE_NAME: 'model',
    })
  })

  it("lets the operator's addresses win over the graph and the code", () => {
    const layout = layoutGraph(description, {
      addresses: new Map([
        ['ranker', 'http://ranker:3000'],
        ['far', 'http://nearer:3000'],
      ]),
    })
    // ranker is elsewhere now, but api still calls model directly.
    expect(layout.local.map((s) => s.name)).toEqual(['model'])
    expect(layout.remote.get('far')).toBe('http://nearer:3000')
    expect(localDependencies(layout, [api])).toEqual(['model'])
  })

  it('serves one service alone when every dependency of it has an address', () => {
    const layout = layoutGraph(description, {
      service: 'ranker',
      addresses: new Map([['model', 'http://model:3000']]),
    })
    expect(layout.entry).toEqual({ kind: 'service', services: [ranker] })
    expect(layout.local).toEqual([])
    expect(layout.only).toBe('ranker')
  })

  it.each([
    [{ service: 'ranker' }, /depends\.model has no address, and "ranker" is served alone/],
    [
      { service: 'nope' },
      /service is "nope", which this entry does not serve \(it has api, model, ranker, far\)/,
    ],
    [
      { addresses: new Map([['api', 'http://x:1']]) },
      /"api", which is not a dependency of this entry/,
    ],
  ])('refuses %o', (options, message) => {
    expect(() => layoutGraph(description, options)).toThrow(BentoConfigError)
    expect(() => layoutGraph(description, options)).toThrow(message)
  })
})

describe('operatorAddresses', () => {
  it('reads $BENTO_DEPENDS, then the given ones over it', () => {
    const env = { BENTO_DEPENDS: 'embedder=http://a:3000,ranker=http://r:3000' }
    const given = { embedder: 'http://b:3000' }
    expect(operatorAddresses(env, given, '--depends')).toEqual(
      new Map([
        ['embedder', 'http://b:3000'],
        ['ranker', 'http://r:3000'],
      ])
    )
    expect(operatorAddresses({}, undefined, 'depends')).toEqual(new Map())
  })

  it('names where a bad one came from', () => {
    expect(() => operatorAddresses({}, { embedder: 'not a url' }, '--depends')).toThrow(/--depends/)
  })
})
