// Validates generated Kubernetes objects against the published schemas (kubernetes-models, and
// @kubernetes-models/keda for KEDA's ScaledObject).
import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1'
import { Deployment } from 'kubernetes-models/apps/v1'
import { HorizontalPodAutoscaler } from 'kubernetes-models/autoscaling/v2'
import { NetworkPolicy } from 'kubernetes-models/networking.k8s.io/v1'
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1'
import { ConfigMap, Service } from 'kubernetes-models/v1'

const MODELS: Record<string, new (data: never) => { validate(): void }> = {
  Deployment,
  Service,
  PodDisruptionBudget,
  HorizontalPodAutoscaler,
  ScaledObject,
  ConfigMap,
  NetworkPolicy,
}

/**
 * Throws when `object` is of a kind bento does not write or does not match its kind's schema.
 * @example
 * validateObject({ apiVersion: 'v1', kind: 'Service', metadata: { name: 'a' }, spec: {} })
 */
export function validateObject(object: { kind: string }): void {
  const Model = MODELS[object.kind]
  if (Model === undefined) throw new Error(`bento writes no ${object.kind}`)
  new Model(object as never).validate()
}
