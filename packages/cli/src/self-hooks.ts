// Node module hooks (registered by self.ts): when a service file imports `bento` or `@bento/...`
// and its own project does not have them (`npx bento dev` in a directory with nothing installed),
// resolve them from this CLI's installation instead.
import type { ResolveHook } from 'node:module'

const OURS = /^(bento|@bento\/[^/]+)(\/.*)?$/

/** Resolves as usual, falling back to the CLI's own copy for `bento` and `@bento/*`. */
export const resolve: ResolveHook = async (specifier, context, next) => {
  try {
    return await next(specifier, context)
  } catch (error) {
    if (!OURS.test(specifier) || (error as { code?: string }).code !== 'ERR_MODULE_NOT_FOUND')
      throw error
    return next(specifier, { ...context, parentURL: import.meta.url })
  }
}
