// Kubernetes manifests for a graph: one Deployment, Service, PodDisruptionBudget and autoscaler
// per service (with its ConfigMap, its Secret variables and, but for the entry, a NetworkPolicy:
// wiring.ts), each service a Deployment of its own that calls the others through their Services'
// cluster DNS names. Pure: objects from the described graph and the build's options, so tests
// validate exactly what is written.
import type { GraphLayout, ServiceDescription } from '@bento/core/serve'
import { APP_DIR, IMAGE_USER } from './containerfile.ts'
import {
  configMapFor,
  type KubeObject,
  networkPolicyFor,
  type SecretNeeds,
  secretEnv,
  secretVariables,
} from './wiring.ts'

/** How the manifests are written, from `bento build`'s flags. */
export interface ManifestOptions {
  /** The image every service runs unless its `deploy.image` names another. */
  image: string
  /** The port each pod serves on (`PORT`). */
  port: number
  /** `hpa` (CPU, `autoscaling/v2`), `keda` (in-flight requests, a KEDA ScaledObject) or `none`. */
  autoscale: 'hpa' | 'keda' | 'none'
  /** Where KEDA's Prometheus trigger reads the in-flight requests. */
  prometheus: string
  /** The name of the whole application (the entry's service, or the app's package). */
  appName: string
}

/** One service's objects, written to `k8s/<file>`. */
export interface ServiceManifests {
  service: string
  file: string
  objects: KubeObject[]
}

/** Seconds the pod keeps serving after it is told to stop, while its endpoints are removed. */
export const PRE_STOP_SECONDS = 5
/** Seconds of the grace period beyond the pre-stop pause and the drain timeout. */
const GRACE_MARGIN = 10
const PROBE_PERIOD = 5

/**
 * A name Kubernetes takes for a Deployment and a Service (RFC 1035: lower-case letters, digits and
 * `-`, starting with a letter), from a bento service name.
 * @example
 * kubeName('search_api.v2') // 'search-api-v2'
 */
export function kubeName(name: string): string {
  const cleaned = name
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '')
  const named = /^[a-z]/.test(cleaned) ? cleaned : `svc-${cleaned}`
  return named.slice(0, 63).replace(/-+$/, '')
}

/**
 * The manifests of every service the layout serves (the entry's, and each dependency served
 * here, as a Deployment of its own), and the warnings about what could not be written as asked.
 * @example
 * const { services, kustomization } = manifests(layoutGraph(description), options)
 */
export function manifests(
  layout: GraphLayout,
  options: ManifestOptions
): {
  services: ServiceManifests[]
  kustomization: KubeObject
  secret: SecretNeeds | undefined
  warnings: string[]
} {
  const warnings: string[] = []
  const deployed = new Map(layout.local.map((s) => [s.name, s]))
  const units: Unit[] = layout.local.map((s) => ({
    name: s.name,
    settings: s.settings,
    serves: [s],
    alone: true,
    isEntry: false,
  }))
  const entryServices = layout.entry.services
  units.push({
    name: layout.entry.kind === 'service' ? entryServices[0]!.name : options.appName,
    settings: layout.entry.kind === 'service' ? entryServices[0]!.settings : merged(entryServices),
    serves: entryServices,
    alone: layout.entry.kind === 'service',
    isEntry: true,
  })
  const secretName = `${kubeName(options.appName)}-secrets`
  const secretKeys = new Set<string>()
  // Who calls each deployed service, by Deployment name: its NetworkPolicy lets only them in.
  const callers = new Map<string, Set<string>>()
  const wired = units.map((unit) => {
    const name = kubeName(unit.name)
    const depends: string[] = []
    const callees: ServiceDescription[] = []
    for (const s of unit.serves) {
      for (const { service, url } of Object.values(s.depends)) {
        const address = layout.addresses.get(service) ?? url
        const callee = deployed.get(service)
        if (address === undefined && callee !== undefined) {
          depends.push(`${service}=http://${kubeName(service)}:${options.port}`)
          callees.push(callee)
          callers.set(service, (callers.get(service) ?? new Set()).add(name))
        }
      }
    }
    const secrets = secretVariables(unit.serves, callees)
    for (const key of secrets) secretKeys.add(key)
    return { unit, name, depends: [...new Set(depends)], secrets }
  })
  const services = wired.map(({ unit, name, depends, secrets }) => ({
    service: unit.name,
    file: `${name}.yaml`,
    objects: objectsFor(name, unit, depends, options, warnings, {
      secrets,
      secretName,
      // The entry is public; every other service answers its callers only.
      callers: unit.isEntry ? undefined : [...(callers.get(unit.name) ?? [])].sort(),
    }),
  }))
  const kustomization: KubeObject = {
    apiVersion: 'kustomize.config.k8s.io/v1beta1',
    kind: 'Kustomization',
    metadata: { name: kubeName(options.appName) },
    resources: services.map((s) => s.file),
  }
  const secret =
    secretKeys.size === 0 ? undefined : { name: secretName, keys: [...secretKeys].sort() }
  return { services, kustomization, secret, warnings }
}

// An app entry (a Hono app with services mounted) is one Deployment: it needs what its most
// demanding service needs.
function merged(services: readonly ServiceDescription[]): ServiceDescription['settings'] {
  const first = services[0]!.settings
  const max = (pick: (s: ServiceDescription['settings']) => number | undefined) => {
    const values = services.map((s) => pick(s.settings)).filter((v) => v !== undefined)
    return values.length === 0 ? undefined : Math.max(...values)
  }
  return {
    ...first,
    resources: {
      cpu: max((s) => s.resources.cpu),
      memory: max((s) => s.resources.memory),
      gpu: max((s) => s.resources.gpu),
    },
    envs: Object.assign({}, ...services.map((s) => s.settings.envs)),
    drainTimeout: max((s) => s.drainTimeout) ?? first.drainTimeout,
  }
}

// One Deployment's worth: a service, or an app entry with the services it mounts.
interface Unit {
  name: string
  settings: ServiceDescription['settings']
  serves: ServiceDescription[]
  alone: boolean
  isEntry: boolean
}

function objectsFor(
  name: string,
  unit: Unit,
  depends: string[],
  options: ManifestOptions,
  warnings: string[],
  access: { secrets: string[]; secretName: string; callers: string[] | undefined }
): KubeObject[] {
  const { settings } = unit
  const { deploy, resources } = settings
  const labels = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/part-of': kubeName(options.appName),
    'app.kubernetes.io/managed-by': 'bento',
  }
  const selector = {
    'app.kubernetes.io/name': name,
    'app.kubernetes.io/part-of': kubeName(options.appName),
  }
  const quantities: Record<string, string> = {}
  if (resources.cpu !== undefined) quantities.cpu = `${Math.round(resources.cpu * 1000)}m`
  if (resources.memory !== undefined)
    quantities.memory = `${Math.ceil(resources.memory / 2 ** 20)}Mi`
  if (resources.memory === undefined) {
    warnings.push(`${unit.name}: no resources.memory, so its pods have no memory request or limit`)
  }
  const gpus = resources.gpu === undefined ? 0 : Math.ceil(resources.gpu)
  const env = [
    { name: 'PORT', value: String(options.port) },
    ...(depends.length > 0 ? [{ name: 'BENTO_DEPENDS', value: depends.join(',') }] : []),
    ...secretEnv(access.secrets, access.secretName),
  ]
  const config = configMapFor(name, labels, settings.envs)
  const autoscaling = options.autoscale === 'none' ? undefined : deploy.autoscaling
  let scaler: KubeObject | undefined
  if (autoscaling !== undefined && options.autoscale === 'hpa' && resources.cpu === undefined) {
    warnings.push(
      `${unit.name}: no HorizontalPodAutoscaler, as CPU use is measured against resources.cpu, which is not set; set it, or use --autoscale keda (in-flight requests)`
    )
  } else if (autoscaling !== undefined) {
    scaler =
      options.autoscale === 'hpa'
        ? {
            apiVersion: 'autoscaling/v2',
            kind: 'HorizontalPodAutoscaler',
            metadata: { name, labels },
            spec: {
              scaleTargetRef: { apiVersion: 'apps/v1', kind: 'Deployment', name },
              minReplicas: deploy.replicas,
              maxReplicas: autoscaling.maxReplicas,
              metrics: [
                {
                  type: 'Resource',
                  resource: {
                    name: 'cpu',
                    target: {
                      type: 'Utilization',
                      averageUtilization: autoscaling.targetCpuPercent,
                    },
                  },
                },
              ],
            },
          }
        : {
            apiVersion: 'keda.sh/v1alpha1',
            kind: 'ScaledObject',
            metadata: { name, labels },
            spec: {
              scaleTargetRef: { name },
              minReplicaCount: deploy.replicas,
              maxReplicaCount: autoscaling.maxReplicas,
              triggers: [
                {
                  type: 'prometheus',
                  metadata: {
                    serverAddress: options.prometheus,
                    // Each pod's /metrics already sums its workers; the sum over pods divided by
                    // the threshold is the replica count KEDA asks for.
                    query: `sum(http_server_active_requests{service="${unit.name}"})`,
                    threshold: String(autoscaling.targetInFlight),
                  },
                },
              ],
            },
          }
  }
  const probe = (path: string) => ({ httpGet: { path, port: 'http' } })
  const deployment: KubeObject = {
    apiVersion: 'apps/v1',
    kind: 'Deployment',
    metadata: { name, labels },
    spec: {
      ...(scaler === undefined && { replicas: deploy.replicas }),
      selector: { matchLabels: selector },
      // A GPU is rarely free for a surge pod: replace one at a time instead.
      strategy: {
        type: 'RollingUpdate',
        rollingUpdate:
          gpus > 0 ? { maxSurge: 0, maxUnavailable: 1 } : { maxSurge: 1, maxUnavailable: 0 },
      },
      template: {
        metadata: {
          labels,
          annotations: {
            'prometheus.io/scrape': 'true',
            'prometheus.io/port': String(options.port),
            'prometheus.io/path': '/metrics',
            // A change of envs changes the pod template, so the pods are replaced.
            ...(config && { 'bento.dev/envs-hash': config.hash }),
          },
        },
        spec: {
          terminationGracePeriodSeconds:
            PRE_STOP_SECONDS + Math.ceil(settings.drainTimeout) + GRACE_MARGIN,
          automountServiceAccountToken: false,
          securityContext: {
            runAsNonRoot: true,
            runAsUser: IMAGE_USER,
            runAsGroup: IMAGE_USER,
            seccompProfile: { type: 'RuntimeDefault' },
          },
          ...(gpus > 0 && {
            tolerations: [{ key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' }],
          }),
          containers: [
            {
              name,
              image: deploy.image ?? options.image,
              imagePullPolicy: 'IfNotPresent',
              args: [...(unit.alone ? ['--service', unit.name] : []), '--log-format', 'json'],
              ports: [{ name: 'http', containerPort: options.port, protocol: 'TCP' }],
              env,
              ...(config && { envFrom: [{ configMapRef: { name: config.object.metadata.name } }] }),
              resources: {
                // Requests equal to limits: the CFS quota bento sizes its workers from is the
                // limit, and the scheduler reserves exactly that.
                ...(Object.keys(quantities).length > 0 && { requests: { ...quantities } }),
                ...((Object.keys(quantities).length > 0 || gpus > 0) && {
                  limits: { ...quantities, ...(gpus > 0 && { 'nvidia.com/gpu': String(gpus) }) },
                }),
              },
              startupProbe: {
                ...probe('/livez'),
                periodSeconds: PROBE_PERIOD,
                timeoutSeconds: 3,
                failureThreshold: Math.max(1, Math.ceil(deploy.startupTimeout / PROBE_PERIOD)),
              },
              livenessProbe: {
                ...probe('/livez'),
                periodSeconds: 10,
                timeoutSeconds: 5,
                failureThreshold: 3,
              },
              // /readyz asks the dependencies' own for up to 2 s.
              readinessProbe: {
                ...probe('/readyz'),
                periodSeconds: PROBE_PERIOD,
                timeoutSeconds: 3,
                failureThreshold: 2,
              },
              lifecycle: { preStop: { sleep: { seconds: PRE_STOP_SECONDS } } },
              securityContext: {
                allowPrivilegeEscalation: false,
                readOnlyRootFilesystem: true,
                capabilities: { drop: ['ALL'] },
              },
              // Worker sockets and temporary files; the image itself is read-only.
              volumeMounts: [{ name: 'tmp', mountPath: '/tmp' }],
              workingDir: APP_DIR,
            },
          ],
          volumes: [{ name: 'tmp', emptyDir: {} }],
        },
      },
    },
  }
  const service: KubeObject = {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, labels },
    spec: {
      type: 'ClusterIP',
      selector,
      ports: [{ name: 'http', port: options.port, targetPort: 'http', protocol: 'TCP' }],
    },
  }
  const budget: KubeObject = {
    apiVersion: 'policy/v1',
    kind: 'PodDisruptionBudget',
    metadata: { name, labels },
    spec: { maxUnavailable: 1, selector: { matchLabels: selector } },
  }
  const policy =
    access.callers === undefined
      ? undefined
      : networkPolicyFor(name, labels, selector, access.callers, kubeName(options.appName))
  return [
    ...(config ? [config.object] : []),
    deployment,
    service,
    budget,
    ...(scaler ? [scaler] : []),
    ...(policy ? [policy] : []),
  ]
}
