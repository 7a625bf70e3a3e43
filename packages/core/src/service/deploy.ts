// The `deploy` section of a service: how `bento build` runs it on Kubernetes. Serving ignores it;
// it lives on the service so that each service of a graph carries its own.
import { describe } from '../errors.ts'
import { DEFAULTS } from './defaults.ts'
import { type Fail, integer, seconds, settingsObject } from './fields.ts'

/** How `bento build` deploys a service to Kubernetes (one Deployment per service). */
export interface Deploy {
  /** Replicas when not autoscaled, and the autoscaler's minimum. Default 1. */
  replicas?: number
  /** This service's image, when it is not the one `bento build --image` names. */
  image?: string
  /** Autoscaling bounds and targets, or `false` for a fixed number of replicas. */
  autoscaling?: false | Autoscaling
  /** Seconds a pod may take to start (model loads) before it is restarted. Default 300. */
  startupTimeout?: number
  /**
   * Environment variables read from the build's Kubernetes Secret (`<app>-secrets`), by name:
   * `['HF_TOKEN']`. Their values never appear in the code or the build; `envs` are for the rest.
   */
  secretEnvs?: string[]
}

/** The autoscaler's bounds and targets. */
export interface Autoscaling {
  /** Default: 4 × replicas. */
  maxReplicas?: number
  /** In-flight requests per replica to scale at (`--autoscale keda`). Default 8. */
  targetInFlight?: number
  /** CPU use, in percent of the request, to scale at (the default HorizontalPodAutoscaler). Default 70. */
  targetCpuPercent?: number
}

/** `deploy` with every default applied; `autoscaling` is `undefined` when turned off. */
export interface ResolvedDeploy {
  replicas: number
  image: string | undefined
  autoscaling: { maxReplicas: number; targetInFlight: number; targetCpuPercent: number } | undefined
  startupTimeout: number
  secretEnvs: string[]
}

/** The keys of `deploy`. */
export const DEPLOY_KEYS = [
  'replicas',
  'image',
  'autoscaling',
  'startupTimeout',
  'secretEnvs',
] as const
/** The keys of `deploy.autoscaling`. */
export const AUTOSCALING_KEYS = ['maxReplicas', 'targetInFlight', 'targetCpuPercent'] as const

/**
 * The `deploy` section, checked, with the defaults applied.
 * @example
 * const deploy = normalizeDeploy({ replicas: 2 }, fail) // autoscaling from 2 to 8 replicas
 */
export function normalizeDeploy(value: unknown, fail: Fail): ResolvedDeploy {
  const d = DEFAULTS.deploy
  const deploy = settingsObject(value, 'deploy', DEPLOY_KEYS, fail, 'deploy: { replicas: 2 }')
  const replicas = integer(deploy.replicas, d.replicas, 1, 'deploy.replicas', fail)
  const { image } = deploy
  if (image !== undefined && (typeof image !== 'string' || !/^[^\s]+$/.test(image))) {
    fail(
      'deploy.image',
      `must be an image reference without spaces, got ${describe(image)}`,
      'write deploy: { image: "registry.example.com/embedder:1.0" }'
    )
  }
  const startupTimeout = seconds(
    deploy.startupTimeout,
    d.startupTimeout,
    'deploy.startupTimeout',
    fail
  )
  const secretEnvs = deploy.secretEnvs ?? []
  if (
    !Array.isArray(secretEnvs) ||
    secretEnvs.some((n) => typeof n !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(n))
  ) {
    fail(
      'deploy.secretEnvs',
      `must be a list of environment variable names, got ${describe(secretEnvs)}`,
      "write secretEnvs: ['HF_TOKEN']"
    )
  }
  const common = {
    replicas,
    image: image as string | undefined,
    startupTimeout,
    secretEnvs: [...new Set(secretEnvs as string[])],
  }
  if (deploy.autoscaling === false) return { ...common, autoscaling: undefined }
  const scaling = settingsObject(
    deploy.autoscaling,
    'deploy.autoscaling',
    AUTOSCALING_KEYS,
    fail,
    'autoscaling: { maxReplicas: 8 }, or autoscaling: false'
  )
  const maxReplicas = integer(
    scaling.maxReplicas,
    replicas * 4,
    1,
    'deploy.autoscaling.maxReplicas',
    fail
  )
  if (maxReplicas < replicas) {
    fail(
      'deploy.autoscaling.maxReplicas',
      `is ${maxReplicas}, below deploy.replicas (${replicas}), the autoscaler's minimum`,
      `make maxReplicas at least ${replicas}, or set autoscaling: false for a fixed count`
    )
  }
  const targetCpuPercent = integer(
    scaling.targetCpuPercent,
    d.targetCpuPercent,
    1,
    'deploy.autoscaling.targetCpuPercent',
    fail
  )
  if (targetCpuPercent > 100) {
    fail(
      'deploy.autoscaling.targetCpuPercent',
      `is ${targetCpuPercent}, above 100 (the pod's whole CPU request)`,
      'use a percentage such as 70'
    )
  }
  return {
    ...common,
    autoscaling: {
      maxReplicas,
      targetInFlight: integer(
        scaling.targetInFlight,
        d.targetInFlight,
        1,
        'deploy.autoscaling.targetInFlight',
        fail
      ),
      targetCpuPercent,
    },
  }
}
