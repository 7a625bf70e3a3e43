// What the supervisor needs to know about an entry, as plain JSON: the deployment process (or
// `bento info`) imports the entry and reports this, so that the supervisor itself never imports
// user code (and never loads a model library).
import { definedIn } from '../service/defined-in.ts'
import { serviceGraph } from '../service/graph.ts'
import type { Service, ServiceSettings } from '../service/types.ts'
import type { EntryExport } from './entry.ts'
import { servedServices } from './served.ts'

/** One API as the supervisor and the CLI's banner see it. */
export interface ApiDescription {
  name: string
  route: string
  method: string
  batchable: boolean
}

/** One service: its settings with every default applied, its APIs, and which hooks it has. */
export interface ServiceDescription {
  name: string
  settings: ServiceSettings
  apis: ApiDescription[]
  /** True when it has an `onDeployment` hook (the only hook the supervisor has run). */
  onDeployment: boolean
  /** The services it calls, by the name its handlers use: the service's name, and its `url`. */
  depends: Record<string, { service: string; url?: string }>
  /** The file that defined it (`service()`'s caller), when the runtime's stack named one. */
  file?: string
}

/**
 * An entry: a service, or an app and every service it mounts, in the order they were mounted;
 * and every service they depend on, directly or not, dependencies first (one the app also
 * mounts is there too: calls to it go to workers of its own).
 */
export interface EntryDescription {
  kind: 'service' | 'app'
  services: ServiceDescription[]
  graph: ServiceDescription[]
}

/**
 * The description of what an entry exports. For an app, its services are those an adapter built
 * an app for while the entry was imported (`toHono` reports them).
 * @example
 * const description = describeExport(findExport(await import(file), file))
 */
export function describeExport(found: EntryExport): EntryDescription {
  const services = entryServices(found)
  return {
    kind: found.kind,
    services: services.map(describeService),
    graph: serviceGraph(services).map(describeService),
  }
}

/**
 * The services an entry serves itself: its service, or those its app mounts.
 */
export function entryServices(found: EntryExport): Service[] {
  return found.kind === 'service' ? [found.service] : servedServices()
}

function describeService(service: Service): ServiceDescription {
  const file = definedIn(service)
  return {
    ...(file !== undefined && { file }),
    name: service.name,
    settings: service.settings,
    apis: service.apis.map((api) => ({
      name: api.name,
      route: api.route,
      method: api.method,
      batchable: api.batchable === true,
    })),
    onDeployment: service.definition.onDeployment !== undefined,
    depends: Object.fromEntries(
      Object.entries(service.depends).map(([key, d]) => [
        key,
        d.url === undefined ? { service: d.service.name } : { service: d.service.name, url: d.url },
      ])
    ),
  }
}
