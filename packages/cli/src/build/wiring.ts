// What a pod is given and who may reach it, beside its Deployment: its `envs` in a ConfigMap (their
// hash on the pod template, so that a change rolls the pods), the variables that hold secrets read
// from one Secret the operator creates (never written by the build), and a NetworkPolicy that lets
// only the services calling it reach a service that is not the entry.
import { createHash } from 'node:crypto'
import type { ServiceDescription } from '@bento/core/serve'

/** A Kubernetes object, as plain data. */
export type KubeObject = {
  apiVersion: string
  kind: string
  metadata: { name: string; labels?: Record<string, string> }
} & Record<string, unknown>

/** The Secret every service reads its secret variables from, and the keys it must hold. */
export interface SecretNeeds {
  name: string
  keys: string[]
}

/**
 * The environment variables a service reads from the Secret: its `deploy.secretEnvs`, the
 * variables of its own `auth.bearer` tokens, and those of the services it calls (whose tokens it
 * sends).
 * @example
 * secretVariables([search], [embedder]) // ['EMBEDDER_TOKEN']
 */
export function secretVariables(
  serves: readonly Pick<ServiceDescription, 'settings'>[],
  callees: readonly Pick<ServiceDescription, 'settings'>[]
): string[] {
  const names = new Set<string>()
  for (const s of serves) for (const name of s.settings.deploy.secretEnvs) names.add(name)
  for (const s of [...serves, ...callees]) {
    for (const secret of s.settings.auth?.bearer ?? []) {
      if (typeof secret === 'object') names.add(secret.env)
    }
  }
  return [...names].sort()
}

/**
 * The container's `env` entries for `names`, each a key of the Secret `secret`.
 * @example
 * secretEnv(['HF_TOKEN'], 'app-secrets')
 */
export function secretEnv(names: readonly string[], secret: string): Record<string, unknown>[] {
  return names.map((name) => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key: name } },
  }))
}

/**
 * The ConfigMap holding a service's `envs`, and the hash its pod template carries; `undefined`
 * when it has none.
 * @example
 * const config = configMapFor('search', labels, { MODEL: 'small' })
 */
export function configMapFor(
  name: string,
  labels: Record<string, string>,
  envs: Readonly<Record<string, string>>
): { object: KubeObject; hash: string } | undefined {
  if (Object.keys(envs).length === 0) return undefined
  const data = Object.fromEntries(Object.entries(envs).sort(([a], [b]) => a.localeCompare(b)))
  return {
    object: {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: `${name}-env`, labels },
      data,
    },
    hash: createHash('sha256').update(JSON.stringify(data)).digest('hex').slice(0, 16),
  }
}

/**
 * A NetworkPolicy letting only the pods of `callers` (by their Deployment's name, in the same
 * application) reach the pods `selector` picks, on the `http` port.
 * @example
 * networkPolicyFor('embedder', labels, selector, ['search'], 'app')
 */
export function networkPolicyFor(
  name: string,
  labels: Record<string, string>,
  selector: Record<string, string>,
  callers: readonly string[],
  partOf: string
): KubeObject {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, labels },
    spec: {
      podSelector: { matchLabels: selector },
      policyTypes: ['Ingress'],
      ingress:
        callers.length === 0
          ? []
          : [
              {
                from: callers.map((caller) => ({
                  podSelector: {
                    matchLabels: {
                      'app.kubernetes.io/name': caller,
                      'app.kubernetes.io/part-of': partOf,
                    },
                  },
                })),
                ports: [{ port: 'http', protocol: 'TCP' }],
              },
            ],
    },
  }
}
