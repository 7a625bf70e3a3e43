// biome-ignore-all lint/suspicious/noExplicitAny: manifests are read back as plain data, deep paths and all
import { depends, env, service } from '@bento/core'
import { describeExport, findExport, layoutGraph } from '@bento/core/serve'
import { describe, expect, it } from 'vitest'
import { validateObject } from '../../test/kube.ts'
import { kubeName, type ManifestOptions, manifests } from './manifests.ts'
import type { KubeObject } from './wiring.ts'

const handler = () => ({ ok: true })
const options: ManifestOptions = {
  image: 'registry.example.com/app:1.0',
  port: 3000,
  autoscale: 'hpa',
  prometheus: 'http://prometheus:9090',
  appName: 'app',
}

// Every object must pass its real schema (kubernetes-models, @kubernetes-models/keda).
function validated(objects: KubeObject[]): Record<string, any> {
  const byKind: Record<string, any> = {}
  for (const object of objects) {
    expect(() => validateObject(object), object.kind).not.toThrow()
    byKind[object.kind] = object
  }
  return byKind
}

function build(entry: unknown, overrides: Partial<ManifestOptions> = {}) {
  const layout = layoutGraph(describeExport(findExport({ default: entry }, 'service.ts')))
  return manifests(layout, { ...options, ...overrides })
}

const container = (deployment: any) => deployment.spec.template.spec.containers[0]

describe('manifests', () => {
  it('writes a Deployment, Service, PodDisruptionBudget and HPA for one service, from its settings', () => {
    const hello = service({
      name: 'hello',
      workers: 'cpu_count',
      resources: { cpu: 1.5, memory: '512Mi' },
      envs: { MODEL: 'small' },
      drainTimeout: 20,
      deploy: { replicas: 2, autoscaling: { maxReplicas: 6, targetCpuPercent: 60 } },
      apis: { greet: { handler } },
    })
    const { services, kustomization, warnings } = build(hello)
    expect(warnings).toEqual([])
    expect(services.map((s) => s.file)).toEqual(['hello.yaml'])
    expect(kustomization).toMatchObject({ kind: 'Kustomization', resources: ['hello.yaml'] })
    const k = validated(services[0]!.objects)
    expect(Object.keys(k)).toEqual([
      'ConfigMap',
      'Deployment',
      'Service',
      'PodDisruptionBudget',
      'HorizontalPodAutoscaler',
    ])
    const c = container(k.Deployment)
    expect(c.image).toBe('registry.example.com/app:1.0')
    expect(c.args).toEqual(['--service', 'hello', '--log-format', 'json'])
    expect(c.resources).toEqual({
      requests: { cpu: '1500m', memory: '512Mi' },
      limits: { cpu: '1500m', memory: '512Mi' },
    })
    expect(c.env).toEqual([{ name: 'PORT', value: '3000' }])
    // envs live in a ConfigMap, whose hash the pod template carries: a change rolls the pods.
    expect(k.ConfigMap).toMatchObject({ metadata: { name: 'hello-env' }, data: { MODEL: 'small' } })
    expect(c.envFrom).toEqual([{ configMapRef: { name: 'hello-env' } }])
    const hash = k.Deployment.spec.template.metadata.annotations['bento.dev/envs-hash']
    expect(hash).toMatch(/^[0-9a-f]{16}$/)
    const changed = build(service({ ...hello.definition, envs: { MODEL: 'large' } }))
    const other = validated(changed.services[0]!.objects).Deployment
    expect(other.spec.template.metadata.annotations['bento.dev/envs-hash']).not.toBe(hash)
    expect(c.livenessProbe.httpGet.path).toBe('/livez')
    expect(c.readinessProbe.httpGet.path).toBe('/readyz')
    // 300 s to start (the default startupTimeout), in 5 s probes.
    expect(c.startupProbe.failureThreshold * c.startupProbe.periodSeconds).toBe(300)
    expect(c.lifecycle.preStop.sleep.seconds).toBe(5)
    // Pre-stop pause + drain + margin: the kubelet never kills a pod still draining.
    expect(k.Deployment.spec.template.spec.terminationGracePeriodSeconds).toBe(5 + 20 + 10)
    expect(k.Deployment.spec.template.spec.securityContext.runAsNonRoot).toBe(true)
    // The HPA owns the replica count.
    expect(k.Deployment.spec.replicas).toBeUndefined()
    expect(k.HorizontalPodAutoscaler.spec).toMatchObject({ minReplicas: 2, maxReplicas: 6 })
    expect(k.HorizontalPodAutoscaler.spec.metrics[0].resource.target.averageUtilization).toBe(60)
    expect(k.Service.spec.selector).toEqual(k.Deployment.spec.selector.matchLabels)
    expect(k.PodDisruptionBudget.spec.maxUnavailable).toBe(1)
  })

  it('writes one set per service of a graph, the caller reaching each callee by its Service name', () => {
    const embedder = service({
      name: 'text_embedder',
      resources: { cpu: 1, memory: '1Gi' },
      apis: { embed: { handler } },
    })
    const external = service({ name: 'ranker', apis: { rank: { handler } } })
    const api = service({
      name: 'search',
      resources: { cpu: 0.5, memory: '256Mi' },
      depends: { embedder, ranker: depends(external, { url: 'https://ranker.example.com' }) },
      deploy: { replicas: 3, autoscaling: false },
      apis: { search: { handler } },
    })
    const { services, kustomization } = build(api)
    expect(services.map((s) => [s.service, s.file])).toEqual([
      ['text_embedder', 'text-embedder.yaml'],
      ['search', 'search.yaml'],
    ])
    expect(kustomization.resources).toEqual(['text-embedder.yaml', 'search.yaml'])
    const callee = validated(services[0]!.objects)
    const caller = validated(services[1]!.objects)
    expect(container(callee.Deployment).args.slice(0, 2)).toEqual(['--service', 'text_embedder'])
    expect(callee.Service.metadata.name).toBe('text-embedder')
    // Only the dependency deployed here gets an address; the one with a URL in code keeps it.
    expect(container(caller.Deployment).env).toContainEqual({
      name: 'BENTO_DEPENDS',
      value: 'text_embedder=http://text-embedder:3000',
    })
    expect(caller.HorizontalPodAutoscaler).toBeUndefined()
    expect(caller.Deployment.spec.replicas).toBe(3)
    for (const k of [callee, caller]) {
      expect(k.Deployment.metadata.labels['app.kubernetes.io/part-of']).toBe('app')
    }
  })

  it('reads secrets from one Secret it does not write, and lets only callers reach a callee', () => {
    const embedder = service({
      name: 'embedder',
      auth: { bearer: env('EMBEDDER_TOKEN') },
      deploy: { secretEnvs: ['HF_TOKEN'] },
      apis: { embed: { handler } },
    })
    const api = service({
      name: 'search',
      auth: { bearer: [env('SEARCH_TOKEN'), 'literal-token'] },
      depends: { embedder },
      apis: { search: { handler } },
    })
    const { services, secret } = build(api)
    expect(secret).toEqual({
      name: 'app-secrets',
      keys: ['EMBEDDER_TOKEN', 'HF_TOKEN', 'SEARCH_TOKEN'],
    })
    const callee = validated(services[0]!.objects)
    const caller = validated(services[1]!.objects)
    const fromSecret = (key: string) => ({
      name: key,
      valueFrom: { secretKeyRef: { name: 'app-secrets', key } },
    })
    expect(container(callee.Deployment).env.slice(1)).toEqual([
      fromSecret('EMBEDDER_TOKEN'),
      fromSecret('HF_TOKEN'),
    ])
    // The caller reads the callee's token, to send it, and its own; no value is written anywhere.
    expect(container(caller.Deployment).env.filter((e: any) => e.valueFrom)).toEqual([
      fromSecret('EMBEDDER_TOKEN'),
      fromSecret('SEARCH_TOKEN'),
    ])
    const written = JSON.stringify(services)
    expect(written).not.toContain('literal-token')
    expect(services.flatMap((s) => s.objects.map((o) => o.kind))).not.toContain('Secret')
    // The callee answers search's pods only; the entry, being public, has no NetworkPolicy.
    expect(callee.NetworkPolicy.spec).toEqual({
      podSelector: { matchLabels: callee.Deployment.spec.selector.matchLabels },
      policyTypes: ['Ingress'],
      ingress: [
        {
          from: [
            {
              podSelector: {
                matchLabels: {
                  'app.kubernetes.io/name': 'search',
                  'app.kubernetes.io/part-of': 'app',
                },
              },
            },
          ],
          ports: [{ port: 'http', protocol: 'TCP' }],
        },
      ],
    })
    expect(caller.NetworkPolicy).toBeUndefined()
  })

  it('asks for whole GPUs, tolerates GPU nodes and replaces GPU pods one at a time', () => {
    const model = service({
      name: 'llm',
      resources: { gpu: 2, memory: '16Gi' },
      deploy: { startupTimeout: 900 },
      apis: { generate: { handler } },
    })
    const k = validated(build(model, { autoscale: 'keda' }).services[0]!.objects)
    const c = container(k.Deployment)
    expect(c.resources.limits).toEqual({ memory: '16384Mi', 'nvidia.com/gpu': '2' })
    expect(k.Deployment.spec.template.spec.tolerations).toEqual([
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
    ])
    expect(k.Deployment.spec.strategy.rollingUpdate).toEqual({ maxSurge: 0, maxUnavailable: 1 })
    expect(c.startupProbe.failureThreshold).toBe(180)
    // KEDA scales on in-flight requests per replica, read from bento's own metric.
    expect(k.ScaledObject.spec).toMatchObject({ minReplicaCount: 1, maxReplicaCount: 4 })
    expect(k.ScaledObject.spec.triggers[0]).toEqual({
      type: 'prometheus',
      metadata: {
        serverAddress: 'http://prometheus:9090',
        query: 'sum(http_server_active_requests{service="llm"})',
        threshold: '8',
      },
    })
  })

  it('says why a service gets no HPA or no memory limit, and writes no autoscaler with none', () => {
    const bare = service({ name: 'bare', apis: { a: { handler } } })
    const { services, warnings } = build(bare)
    expect(warnings).toEqual([
      'bare: no resources.memory, so its pods have no memory request or limit',
      expect.stringContaining('bare: no HorizontalPodAutoscaler'),
    ])
    const k = validated(services[0]!.objects)
    expect(container(k.Deployment).resources).toEqual({})
    expect(k.Deployment.spec.replicas).toBe(1)
    const sized = service({ name: 'sized', resources: { cpu: 1 }, apis: { a: { handler } } })
    const none = build(sized, { autoscale: 'none' }).services[0]!.objects.map((o) => o.kind)
    expect(none).toEqual(['Deployment', 'Service', 'PodDisruptionBudget'])
  })
})

describe('kubeName', () => {
  it.each([
    ['search_api.v2', 'search-api-v2'],
    ['2fast', 'svc-2fast'],
    ['a'.repeat(70), 'a'.repeat(63)],
  ])('%s -> %s', (name, expected) => {
    expect(kubeName(name)).toBe(expected)
  })
})
