import { DEFAULTS } from '@bento/core'
import { afterEach, describe, expect, it } from 'vitest'
import { resolveOptions } from './options.ts'

describe('resolveOptions', () => {
  const env = { ...process.env }
  afterEach(() => {
    process.env = { ...env }
  })

  it('applies the defaults', () => {
    delete process.env.NODE_ENV
    delete process.env.BENTO_ENV
    expect(resolveOptions()).toMatchObject({
      // The service's own http.bodyLimit applies.
      bodyLimit: undefined,
      maxJsonDepth: DEFAULTS.adapter.maxJsonDepth,
      dev: false,
      // The service's own expose.docs and expose.metrics apply.
      docs: undefined,
      metrics: undefined,
      health: true,
      basePath: undefined,
      openapi: { version: '0.0.0' },
    })
    expect(DEFAULTS.adapter.maxJsonDepth).toBe(128)
  })

  it('turns development mode on from NODE_ENV or BENTO_ENV', () => {
    process.env.BENTO_ENV = 'development'
    expect(resolveOptions().dev).toBe(true)
    expect(resolveOptions({ dev: false }).dev).toBe(false)
  })

  it('reads sizes and trims the base path', () => {
    expect(resolveOptions({ bodyLimit: '1Mi', basePath: '/ml/' })).toMatchObject({
      bodyLimit: 1024 * 1024,
      basePath: '/ml',
    })
  })

  it('refuses a bad size or base path', () => {
    expect(() => resolveOptions({ bodyLimit: 'lots' })).toThrow(/bodyLimit/)
    expect(() => resolveOptions({ basePath: 'ml' })).toThrow(/basePath/)
  })
})
