// `bento` as a library: everything a service file needs, so a project depends on one package.
// `import { service, api } from 'bento'` is the same as importing from '@bento/core'.
export * from '@bento/core'
export { type ToHonoOptions, toHono } from '@bento/hono'
export { main } from './cli.ts'
