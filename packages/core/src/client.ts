// @bento/core/client: the typed client of a bento service, for any program: built on `fetch`,
// with no `node:` import, so it runs in browsers and on edge runtimes too.
export { type ClientOptions, client } from './client/client.ts'
export { CallError, isCallError } from './client/errors.ts'
export type { CallOptions, Client, ClientMethod, PendingCall } from './service/types.ts'
