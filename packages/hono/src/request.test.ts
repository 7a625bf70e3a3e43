import { describe, expect, it } from 'vitest'
import { bodyKind } from './request.ts'

describe('bodyKind', () => {
  it.each([
    ['application/json', 'json'],
    ['Application/JSON; charset=utf-8', 'json'],
    ['application/problem+json', 'json'],
    ['multipart/form-data; boundary=x', 'form'],
    ['application/x-www-form-urlencoded', 'form'],
    ['text/plain', 'unsupported'],
    ['application/jsonp', 'unsupported'],
    ['', 'unsupported'],
  ])('%s is %s', (type, kind) => {
    expect(bodyKind(type)).toBe(kind)
  })
})
