// `env('NAME')`: a setting that holds a secret names the environment variable it is read from, so
// that the secret is never in the code, in `bento build`'s output or in what the supervisor is
// told; a worker reads it when it starts, and `bento build` wires the variable from a Secret.

import { readEnv } from '../env.ts'
import { BentoConfigError, describe } from '../errors.ts'

/** A secret read from the environment variable `env` when a worker starts. */
export interface EnvSecret {
  readonly env: string
}

/** A secret as a setting takes it: the value itself, or `env('NAME')`. */
export type Secret = string | EnvSecret

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * A secret read from the environment variable `name` where the service runs (its value never
 * appears in the code or the build; `bento build` wires it from a Kubernetes Secret).
 * @example
 * service({ name: 'search', auth: { bearer: env('SEARCH_TOKEN') }, apis })
 */
export function env(name: string): EnvSecret {
  if (typeof name !== 'string' || !NAME.test(name)) {
    throw new BentoConfigError({
      field: `env(${describe(name)})`,
      problem:
        'must name an environment variable: letters, digits and _, not starting with a digit',
      fix: "write env('SEARCH_TOKEN')",
    })
  }
  return Object.freeze({ env: name })
}

/**
 * True for what `env()` returns (also after a trip through JSON).
 * @example
 * isEnvSecret(env('TOKEN')) // true
 */
export function isEnvSecret(value: unknown): value is EnvSecret {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.keys(value).length === 1 &&
    typeof (value as EnvSecret).env === 'string' &&
    NAME.test((value as EnvSecret).env)
  )
}

/**
 * The value of `secret` here: itself, or its variable's value (from `extra`, the variables a
 * worker will get, or this process's); a `BentoConfigError` naming `field` when it is unset.
 * @example
 * const token = readSecret(env('SEARCH_TOKEN'), 'auth.bearer', 'search')
 */
export function readSecret(
  secret: Secret,
  field: string,
  service?: string,
  extra: Readonly<Record<string, string>> = {}
): string {
  if (typeof secret === 'string') return secret
  const value = extra[secret.env] || readEnv(secret.env)
  if (value === undefined) {
    throw new BentoConfigError({
      ...(service !== undefined && { service }),
      field,
      problem: `reads the environment variable ${secret.env}, which is not set`,
      fix: `set ${secret.env} where the service runs (bento build wires it from the Secret it names)`,
    })
  }
  return value
}

/**
 * The bearer tokens a service requires on its public port (`auth.bearer`), read now (see
 * `readSecret`); none without `auth`. A `BentoConfigError` when a variable one names is unset.
 * @example
 * const tokens = bearerTokens(search) // ['s3cr3t']
 */
export function bearerTokens(
  service: {
    readonly name: string
    readonly settings: { readonly auth: { bearer: Secret[] } | undefined }
  },
  extra?: Readonly<Record<string, string>>
): string[] {
  const bearer = service.settings.auth?.bearer ?? []
  return bearer.map((secret, i) =>
    readSecret(secret, bearer.length > 1 ? `auth.bearer.${i}` : 'auth.bearer', service.name, extra)
  )
}
