import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import definedHere from '../../test/fixtures/defined-here.ts'
import { definedIn } from './defined-in.ts'

describe('definedIn', () => {
  it("names the file of the code that called service(), not service()'s own", () => {
    const file = fileURLToPath(new URL('../../test/fixtures/defined-here.ts', import.meta.url))
    expect(definedIn(definedHere)).toBe(file)
  })

  it('names nothing for an object service() did not make', () => {
    expect(definedIn({})).toBeUndefined()
  })
})
