// The cross-runtime suite under Node, through vitest: one vitest test per case.
import { describe, it } from 'vitest'
import { groups } from './cases/index.ts'

for (const group of groups) {
  describe(group.name, () => {
    for (const c of group.cases) it(c.name, c.run)
  })
}
