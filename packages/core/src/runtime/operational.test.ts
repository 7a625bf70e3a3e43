import { describe, expect, it } from 'vitest'
import { adminRoutes, withoutMetrics } from './operational.ts'
import type { FetchHandler } from './types.ts'

describe('adminRoutes and withoutMetrics', () => {
  const app = (request: Request) => new Response(new URL(request.url).pathname)
  const get = async (fetch: FetchHandler, path: string) => {
    const response = await fetch(new Request(`http://x${path}`))
    return [response.status, await response.text()] as const
  }

  it('serves the health checks and /metrics on the admin socket, mounted or not, and 404 else', async () => {
    const admin = adminRoutes(app)
    for (const path of [
      '/livez',
      '/healthz',
      '/readyz',
      '/metrics',
      '/ml/metrics',
      '/ml/readyz/',
    ]) {
      expect(await get(admin, path)).toEqual([200, path])
    }
    for (const path of ['/greet', '/', '/docs.json', '/metrics/x', '/metricsx']) {
      const [status, body] = await get(admin, path)
      expect(status, path).toBe(404)
      expect(JSON.parse(body).error).toMatch(
        /serves \/livez, \/healthz, \/readyz and \/metrics only/
      )
    }
  })

  it('keeps /metrics off the public port, and everything else on it', async () => {
    const open = withoutMetrics(app)
    for (const path of ['/metrics', '/ml/metrics']) {
      const [status, body] = await get(open, path)
      expect(status).toBe(404)
      expect(JSON.parse(body).error).toBe('/metrics is served on the admin port')
    }
    for (const path of ['/greet', '/readyz', '/metrics-report', '/a?x=/metrics']) {
      expect((await get(open, path))[0], path).toBe(200)
    }
  })
})
