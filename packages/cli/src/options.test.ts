import { describe, expect, it } from 'vitest'
import {
  parseAutoscale,
  parseDepends,
  parseLogFormat,
  parsePort,
  parseRuntime,
  parseWorkers,
  portFrom,
} from './options.ts'

describe('flag values', () => {
  it('takes ports from 0 to 65535, naming the flag or variable and the fix otherwise', () => {
    expect(parsePort('0', '--port')).toBe(0)
    expect(parsePort('65535', '--port')).toBe(65535)
    expect(() => parsePort('65536', '--port')).toThrow(
      /--port must be a port number from 0 to 65535, got "65536"\. Fix: use e\.g\. --port 3000/
    )
    expect(() => parsePort('http', '$PORT')).toThrow(/Fix: use e\.g\. PORT=3000/)
  })

  it('takes a positive worker count', () => {
    expect(parseWorkers('4')).toBe(4)
    for (const bad of ['0', '-1', '1.5', 'two'])
      expect(() => parseWorkers(bad)).toThrow(/--workers must be a positive integer/)
  })

  it('takes pretty or json logs', () => {
    expect(parseLogFormat('json')).toBe('json')
    expect(() => parseLogFormat('xml')).toThrow(/--log-format must be "pretty" or "json"/)
  })

  it('collects --depends name=url, repeated or comma-separated', () => {
    const once = parseDepends('embedder=http://embedder:3000', {})
    expect(parseDepends('ranker=http://r:1, tok=http://t:2', once)).toEqual({
      embedder: 'http://embedder:3000',
      ranker: 'http://r:1',
      tok: 'http://t:2',
    })
    expect(() => parseDepends('embedder', {})).toThrow(
      /--depends takes name=url, got "embedder"\. Fix: use e\.g\. --depends embedder=http:\/\/embedder:3000/
    )
  })

  it('takes a build runtime and an autoscaler it knows', () => {
    expect(parseRuntime('deno')).toBe('deno')
    expect(() => parseRuntime('python')).toThrow(
      /--runtime must be node, bun or deno, got "python"/
    )
    expect(parseAutoscale('none')).toBe('none')
    expect(() => parseAutoscale('vpa')).toThrow(
      /--autoscale must be hpa, keda or none.*Fix: use hpa/
    )
  })
})

describe('portFrom', () => {
  it('takes --port over $PORT, and neither is no port (the command default applies)', () => {
    expect(portFrom('8080', '9090')).toBe(8080)
    expect(portFrom(undefined, '9090')).toBe(9090)
    expect(portFrom(undefined, undefined)).toBeUndefined()
  })

  it('names where a bad port came from', () => {
    expect(() => portFrom(undefined, 'x')).toThrow(/^\$PORT must be a port number/)
    expect(() => portFrom('70000', '80')).toThrow(/^--port must be a port number/)
  })
})
