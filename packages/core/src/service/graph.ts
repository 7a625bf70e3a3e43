// The graph of services an entry serves: its own services, and every service they depend on that
// bento serves too (a dependency with a `url` is served elsewhere: neither it nor what it depends
// on is started here). Checked as a whole before any process starts: a cycle, or two different
// services with one name, is a `BentoConfigError`.
import { BentoConfigError } from '../errors.ts'
import type { Service } from './types.ts'

/**
 * Every service `roots` depend on, directly or not, dependencies before the services that call
 * them; `roots` themselves are left out unless another root depends on one.
 * @example
 * serviceGraph([search]).map((s) => s.name) // ['tokenizer', 'embedder']
 */
export function serviceGraph(roots: readonly Service[]): Service[] {
  const byName = new Map<string, Service>()
  const done = new Set<Service>()
  const order: Service[] = []
  const visit = (service: Service, path: Service[]) => {
    // By name: services are values defined in order, so a cycle can only be written by reaching a
    // service again through another definition with its name.
    const again = path.findIndex((s) => s.name === service.name)
    if (again !== -1) {
      throw new BentoConfigError({
        service: service.name,
        field: 'depends',
        problem: `makes a cycle: ${show([...path.slice(again), service])}`,
        fix: 'services must call each other one way; move the shared code into a service both depend on',
      })
    }
    const known = byName.get(service.name)
    if (known !== undefined && known !== service) {
      throw new BentoConfigError({
        service: service.name,
        field: 'name',
        problem: `is the name of two different services (reached through ${show([...path, service])})`,
        fix: 'give every service in the graph its own name, or import the one service everywhere instead of defining it twice',
      })
    }
    byName.set(service.name, service)
    if (done.has(service)) return
    for (const dependency of Object.values(service.depends)) {
      if (dependency.url === undefined) visit(dependency.service, [...path, service])
    }
    done.add(service)
    order.push(service)
  }
  for (const root of roots) visit(root, [])
  const called = new Set(order.filter((s) => !roots.includes(s) || isCalled(s, order)))
  return order.filter((s) => called.has(s))
}

function isCalled(service: Service, all: readonly Service[]): boolean {
  return all.some((caller) =>
    Object.values(caller.depends).some((d) => d.service === service && d.url === undefined)
  )
}

function show(path: readonly Service[]): string {
  return path.map((s) => s.name).join(' -> ')
}
