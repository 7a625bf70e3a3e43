// How long a connection may take over what it owes the server, per runtime where the runtime
// lets bento say (docs/architecture.md has the table). The body of a request is bounded by the
// API's `traffic.timeout` in the HTTP layer, the same on every runtime.

/**
 * Connection timeouts, in seconds. `headers`: from a request's first byte to the end of its
 * headers. `idle`: a connection with no request in progress (never used, or kept alive after an
 * answer). 65 s keeps it above the 60 s idle timeouts of common load balancers, which would
 * otherwise reuse a connection the worker is closing.
 * @example
 * server.keepAliveTimeout = CONNECTION_TIMEOUTS.idle * 1000
 */
export const CONNECTION_TIMEOUTS = { headers: 30, idle: 65 } as const
