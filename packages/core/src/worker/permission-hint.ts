// Deno refuses what a worker was not allowed (NotCapable, "run again with the --allow-x flag"):
// bento chose the flags, so its message says where to widen them.

/**
 * `message`, with bento's fix added when `error` is Deno's refusal of a permission.
 */
export function withPermissionHint(error: unknown, message: string): string {
  const name = (error as { name?: unknown } | null)?.name
  if (name !== 'NotCapable' && name !== 'PermissionDenied') return message
  const flag = /--allow-[a-z-]+/.exec(message)?.[0] ?? '--allow-…'
  return `${message} (bento's Deno workers may read files, use the network, read the environment and write only their own sockets: give the service deno: { allow: ['${flag}'] } for more)`
}
