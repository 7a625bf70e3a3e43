import { describe, expect, it } from 'vitest'
import { withPermissionHint } from './permission-hint.ts'

describe('withPermissionHint', () => {
  it("adds where to widen a Deno worker's permissions to Deno's refusal, naming its flag", () => {
    const refusal = Object.assign(
      new Error('Requires ffi access to "/x/binding.node", run again with the --allow-ffi flag'),
      { name: 'NotCapable' }
    )
    expect(withPermissionHint(refusal, refusal.message)).toBe(
      `${refusal.message} (bento's Deno workers may read files, use the network, read the environment and write only their own sockets: give the service deno: { allow: ['--allow-ffi'] } for more)`
    )
  })

  it('leaves any other error as it is', () => {
    const error = new TypeError('x is not a function')
    expect(withPermissionHint(error, error.message)).toBe('x is not a function')
  })
})
