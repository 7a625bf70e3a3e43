// `bento/client`: the typed client of a bento service for any TypeScript program (Node, Bun, Deno,
// browsers, edge runtimes): built on fetch, with no `node:` import.
export {
  CallError,
  type CallOptions,
  type Client,
  type ClientMethod,
  type ClientOptions,
  client,
  isCallError,
  type PendingCall,
} from '@bento/core/client'
