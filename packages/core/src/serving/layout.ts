// Which services of an entry's graph run here, and how each reaches the others. Pure: from the
// description and the addresses given, so `bento info` shows exactly what `bento serve` starts.
// A dependency with an address (from the operator, else its `url`) is called there; every other
// one is served here, by workers of its own, dependencies first.
import { parseDependsVar } from '../client/registry.ts'
import { BentoConfigError } from '../errors.ts'
import { VARS } from '../vars.ts'
import type { EntryDescription, ServiceDescription } from './describe.ts'

/** What one machine serves of a graph. */
export interface GraphLayout {
  /** What the public port serves: the entry's services (or the one chosen to serve alone). */
  entry: { kind: 'service' | 'app'; services: ServiceDescription[] }
  /** The chosen service's name, when one was chosen to be served alone. */
  only: string | undefined
  /** The dependencies served here, each before the services that call it. */
  local: ServiceDescription[]
  /** The addresses of the dependencies served elsewhere, by service name. */
  remote: Map<string, string>
  /** The addresses the operator gave, by service name (they win over the code's `url`s). */
  addresses: ReadonlyMap<string, string>
}

/** What `layoutGraph` is told besides the description. */
export interface LayoutOptions {
  /** Serve this service of the graph alone: its dependencies must all have addresses. */
  service?: string | undefined
  /** Addresses given by the operator, by service name (over the code's `url`s). */
  addresses?: ReadonlyMap<string, string>
}

/**
 * The addresses the operator gave, by service name: `$BENTO_DEPENDS` in `env`, then `given` over
 * it (`serve()`'s `depends`, `bento serve --depends`), each checked as the variable's are, with
 * `label` naming where a bad one came from.
 * @example
 * operatorAddresses(process.env, { embedder: 'http://embedder:3000' }, '--depends')
 */
export function operatorAddresses(
  env: Readonly<Record<string, string | undefined>>,
  given: Readonly<Record<string, string>> | undefined,
  label: string
): Map<string, string> {
  const addresses = parseDependsVar(env[VARS.depends])
  for (const [name, url] of Object.entries(given ?? {})) {
    for (const [key, value] of parseDependsVar(`${name}=${url}`, label)) addresses.set(key, value)
  }
  return addresses
}

/**
 * Lays out what to serve (see the module comment).
 * @example
 * const layout = layoutGraph(description, { addresses: new Map([['embedder', 'http://embedder:3000']]) })
 */
export function layoutGraph(
  description: EntryDescription,
  options: LayoutOptions = {}
): GraphLayout {
  const byName = new Map<string, ServiceDescription>()
  for (const s of [...description.services, ...description.graph]) byName.set(s.name, s)
  const addresses = options.addresses ?? new Map<string, string>()
  for (const name of addresses.keys()) {
    if (!description.graph.some((s) => s.name === name)) {
      const known = description.graph.map((s) => s.name)
      throw new BentoConfigError({
        field: `depends.${name}`,
        problem: `gives an address for "${name}", which is not a dependency of this entry (its dependencies: ${known.join(', ') || 'none'})`,
        fix: 'name a service the entry depends on, by its service name',
      })
    }
  }
  let entry: GraphLayout['entry'] = { kind: description.kind, services: description.services }
  if (options.service !== undefined) {
    const chosen = byName.get(options.service)
    if (chosen === undefined) {
      throw new BentoConfigError({
        field: 'service',
        problem: `is "${options.service}", which this entry does not serve (it has ${[...byName.keys()].join(', ')})`,
        fix: 'choose one of those names',
      })
    }
    entry = { kind: 'service', services: [chosen] }
  }

  const remote = new Map<string, string>()
  const local: ServiceDescription[] = []
  const addressOf = (name: string, url: string | undefined) => addresses.get(name) ?? url
  const visit = (service: ServiceDescription) => {
    for (const { service: name, url } of Object.values(service.depends)) {
      const address = addressOf(name, url)
      if (address !== undefined) {
        remote.set(name, address)
        continue
      }
      if (options.service !== undefined) {
        throw new BentoConfigError({
          service: service.name,
          field: `depends.${name}`,
          problem: `has no address, and "${options.service}" is served alone`,
          fix: `give it one (BENTO_DEPENDS=${name}=http://host:port, or depends(${name}, { url })), or serve the whole graph`,
        })
      }
      const dependency = byName.get(name)!
      visit(dependency)
      if (!local.includes(dependency)) local.push(dependency)
    }
  }
  for (const service of entry.services) visit(service)
  return { entry, only: options.service, local, remote, addresses }
}

/**
 * The dependencies served here that `services` call directly, by name.
 * @example
 * localDependencies(layout, layout.entry.services) // ['embedder']
 */
export function localDependencies(
  layout: GraphLayout,
  services: readonly ServiceDescription[]
): string[] {
  const names = new Set<string>()
  for (const service of services) {
    for (const { service: name, url } of Object.values(service.depends)) {
      if ((layout.addresses.get(name) ?? url) === undefined) names.add(name)
    }
  }
  return [...names]
}

/**
 * The variables that tell one pool's processes what they serve: the service of the graph
 * (`service`, when not the entry's own), the dependencies served beside them, whose workers their
 * calls wait for, and the name a runtime that traces by itself reports (Deno with OTEL_DENO=true).
 * @example
 * poolEnv(layout, [embedder], 'embedder', 'embedder') // { BENTO_SERVICE: 'embedder', BENTO_PEERS: '', OTEL_SERVICE_NAME: 'embedder' }
 */
export function poolEnv(
  layout: GraphLayout,
  services: readonly ServiceDescription[],
  name: string,
  service?: string
): Record<string, string> {
  return {
    ...(service !== undefined && { [VARS.service]: service }),
    [VARS.peers]: localDependencies(layout, services).join(','),
    OTEL_SERVICE_NAME: name,
  }
}
