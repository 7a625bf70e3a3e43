import { expect, it } from 'vitest'
import { loadAddon } from './addon.ts'

it('loads the addon once and gives either the module or why not', () => {
  const first = loadAddon()
  expect(loadAddon()).toBe(first)
  if ('addon' in first) {
    expect(typeof first.addon.probe).toBe('function')
    expect(typeof first.addon.version).toBe('string')
  } else {
    expect(first.error).not.toBe('')
  }
})
