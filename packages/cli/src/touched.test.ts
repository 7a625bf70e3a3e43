import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type DefinedService, touchedServices } from './touched.ts'

// entry.ts composes; a.ts defines A and imports shared.ts; b.ts defines B and imports a.ts's types
// only (gone from the build, as from the worker).
const dir = mkdtempSync(join(tmpdir(), 'bento-touched-'))
afterAll(() => rmSync(dir, { recursive: true, force: true }))
const files = {
  'entry.ts': "import { a } from './a.ts'\nimport { b } from './b.ts'\nexport default [a, b]\n",
  'a.ts': "import { shared } from './shared.ts'\nexport const a = { name: 'a', shared }\n",
  'b.ts':
    "import type { a } from './a.ts'\nexport const b: { name: string } | typeof a = { name: 'b' }\n",
  'shared.ts': 'export const shared = 1\n',
  'README.md': 'not imported\n',
}
for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text)
const at = (name: string) => join(dir, name)
const services = [
  { name: 'a', file: at('a.ts') },
  { name: 'b', file: at('b.ts') },
]
const touched = (changed: string[], list: DefinedService[] = services) =>
  touchedServices(at('entry.ts'), list, changed.map(at))

describe('touchedServices', () => {
  it('names the services whose file, or a file it imports, changed', async () => {
    expect(await touched(['b.ts'])).toEqual(new Set(['b']))
    expect(await touched(['shared.ts'])).toEqual(new Set(['a']))
    expect(await touched(['a.ts', 'b.ts'])).toEqual(new Set(['a', 'b']))
  })

  it('says "all" for a file no definition imports, or a service whose file is unknown', async () => {
    expect(await touched(['entry.ts'])).toBeUndefined()
    expect(await touched(['README.md'])).toBeUndefined()
    expect(
      await touched(['b.ts'], [{ name: 'a', file: at('a.ts') }, { name: 'b' }])
    ).toBeUndefined()
  })

  it('says "all" when the entry does not build', async () => {
    const broken = mkdtempSync(join(dir, 'broken-'))
    writeFileSync(join(broken, 'entry.ts'), 'export default {\n')
    const file = join(broken, 'entry.ts')
    expect(await touchedServices(file, [{ name: 'x', file }], [file])).toBeUndefined()
  })
})
