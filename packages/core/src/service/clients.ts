// The types of calls between services: what `depends` holds, and the typed client a handler gets
// for each dependency (`ctx.depends.embedder.embed(input)`), or a program gets from `client()`.
// Types only: the calls themselves are in client/.
import type { StandardSchemaV1 } from './schema.ts'
import type { BatchApi, Service, SingleApi } from './types.ts'

/** Marks what `depends()` made (in any copy of this package). */
export const DEPENDENCY: unique symbol = Symbol.for('bento.dependency') as never

/** A service served elsewhere, or with options: what `depends(service, options)` returns. */
export interface Dependency<S = Service> {
  readonly [DEPENDENCY]: true
  readonly service: S
  /** The base URL it answers at (`http://embedder:3000`); unset: bento serves it. */
  readonly url: string | undefined
  /** Headers for the calls to `url`. */
  readonly headers: Readonly<Record<string, string>> | undefined
}

/** What a `depends` field holds: a service, or `depends(service, options)`, by name. */
// biome-ignore lint/suspicious/noExplicitAny: a dependency may be any service
export type DependsMap = Record<string, Service<any, any, any> | Dependency<Service<any, any, any>>>

declare const UNTYPED: unique symbol
/**
 * The `Deps` of an API that lists no `depends`: its `ctx.depends` is untyped, each call
 * resolving to `any`.
 */
export interface UntypedDepends {
  readonly [UNTYPED]: true
}

/** Options of one call to another service. */
export interface CallOptions {
  /** Aborts the call (and the callee's handler, through its own signal). */
  signal?: AbortSignal
  /**
   * Milliseconds the call may take. Default: in a handler, what is left of the request's time;
   * elsewhere, the client's `timeout`.
   */
  timeout?: number
  /** Extra request headers. */
  headers?: Record<string, string>
}

/**
 * A call in flight: await it for the answer, or iterate it for the chunks of a streaming API.
 * @example
 * for await (const token of ctx.depends.llm.generate({ prompt })) process(token)
 */
export interface PendingCall<T> extends PromiseLike<T>, AsyncIterable<unknown> {
  catch<E = never>(onRejected?: (reason: unknown) => E | PromiseLike<E>): Promise<T | E>
  finally(onFinally?: () => void): Promise<T>
}

// An API declared inline in `service()` gets `any` for the schemas it leaves out (TypeScript infers
// them from the contextual type): that means "no schema", not "any schema".
type IsAny<T> = 0 extends 1 & T ? true : false
type InputOf<S> =
  IsAny<S> extends true
    ? unknown
    : S extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<S>
      : unknown
type Declared<Out, Otherwise> =
  IsAny<Out> extends true
    ? Otherwise
    : Out extends StandardSchemaV1
      ? StandardSchemaV1.InferInput<Out>
      : Otherwise
// What crosses the wire: bytes arrive as bytes, a handler's own Response as whatever it held.
type Received<T> = T extends Blob | ArrayBuffer | ArrayBufferView
  ? Uint8Array
  : T extends Response
    ? unknown
    : T
type Method<In, Out> = undefined extends In
  ? (input?: In, options?: CallOptions) => Out
  : (input: In, options?: CallOptions) => Out

/** The client method of one API: one input in, its output (or its chunks) out. */
export type ClientMethod<A> =
  // biome-ignore lint/suspicious/noExplicitAny: matching any API's other parameters
  A extends BatchApi<infer In, infer Out, any, any, infer R>
    ? Method<
        InputOf<In>,
        Promise<Declared<Out, Awaited<R> extends readonly (infer O)[] ? Received<O> : unknown>>
      >
    : // biome-ignore lint/suspicious/noExplicitAny: matching any API's other parameters
      A extends SingleApi<infer In, infer Out, any, any, infer R>
      ? Awaited<R> extends AsyncIterable<infer Chunk>
        ? Method<InputOf<In>, AsyncIterable<Received<Chunk>>>
        : Method<InputOf<In>, Promise<Declared<Out, Received<Awaited<R>>>>>
      : never

// biome-ignore lint/suspicious/noExplicitAny: any service's APIs
type ApisOf<S> = S extends Service<any, infer Apis, any> ? Apis : never

/**
 * The typed client of a service: one method per API.
 * @example
 * const search: Client<typeof searchService> = client<typeof searchService>('http://localhost:3000')
 */
export type Client<S> = { [K in keyof ApisOf<S>]: ClientMethod<ApisOf<S>[K]> }

/** A client whose methods take and return anything: a dependency the types don't describe. */
export type UntypedClient = Record<
  string,
  // biome-ignore lint/suspicious/noExplicitAny: an untyped dependency answers anything
  (input?: unknown, options?: CallOptions) => PendingCall<any>
>

type ServiceOf<D> = D extends Dependency<infer S> ? S : D

/** `ctx.depends`: a typed client per dependency, or untyped ones when the API lists none. */
export type Clients<Deps> = [Deps] extends [UntypedDepends]
  ? Record<string, UntypedClient>
  : { [K in keyof Deps]: Client<ServiceOf<Deps[K]>> }
