// Health: liveness, readiness (service-wide through gather), lazy startup.
import { api, service } from '@bento/core'
import { setGatherTransport, setWorkerStatus } from '@bento/core/internal'
import { toHono } from '../../src/index.ts'
import { assert, call, define, expectSubset, sleep, unique } from '../harness.ts'

export default define('health', (test) => {
  test('/livez and /healthz answer 200 while isAlive says yes, 503 when it says no', async () => {
    let alive = true
    const s = service({
      name: unique('live'),
      isAlive: () => alive,
      apis: { a: api({ handler: () => 1 }) },
    })
    const app = toHono(s)
    const live = await call(app, 'GET', '/livez')
    assert.equal(live.status, 200)
    expectSubset(live.json, { status: 'alive', service: s.name })
    assert.ok(live.headers.get('x-request-id'))
    const health = await call(app, 'GET', '/healthz')
    assert.equal(health.status, 200)
    expectSubset(health.json, { status: 'alive', worker: 1, workerStatus: 'starting' })
    alive = false
    assert.equal((await call(app, 'GET', '/livez')).status, 503)
    expectSubset((await call(app, 'GET', '/healthz')).json, { status: 'dead' })
  })

  test('/readyz is 503 while the service starts and 200 once onStartup has run', async () => {
    let finishStartup = () => {}
    const s = service({
      name: unique('ready'),
      onStartup: () => new Promise<void>((resolve) => (finishStartup = resolve)),
      apis: { a: api({ handler: () => 1 }) },
    })
    const app = toHono(s)
    const starting = await call(app, 'GET', '/readyz')
    assert.equal(starting.status, 503)
    expectSubset(starting.json, {
      status: 'not ready',
      workers: [{ worker: 1, ready: false, status: 'starting' }],
    })
    // The probe itself started the service (a plain app has nothing else to start it).
    finishStartup()
    let ready = starting
    for (let i = 0; i < 100 && ready.status !== 200; i++) {
      await sleep(5)
      ready = await call(app, 'GET', '/readyz')
    }
    assert.equal(ready.status, 200, ready.text)
    expectSubset(ready.json, {
      status: 'ready',
      service: s.name,
      workers: [{ worker: 1, ready: true, status: 'ready' }],
    })
  })

  test('/readyz is 503 while the worker drains', async () => {
    const s = service({ name: unique('drain'), apis: { a: api({ handler: () => 1 }) } })
    const app = toHono(s)
    await call(app, 'POST', '/a')
    assert.equal((await call(app, 'GET', '/readyz')).status, 200)
    setWorkerStatus('draining')
    try {
      const draining = await call(app, 'GET', '/readyz')
      assert.equal(draining.status, 503)
      expectSubset(draining.json, { workers: [{ ready: false, status: 'draining' }] })
    } finally {
      setWorkerStatus('starting')
    }
  })

  test('/readyz is 503 while isReady says no', async () => {
    let ready = false
    const s = service({
      name: unique('is-ready'),
      isReady: () => ready,
      apis: { a: api({ handler: () => 1 }) },
    })
    const app = toHono(s)
    await call(app, 'POST', '/a')
    assert.equal((await call(app, 'GET', '/readyz')).status, 503)
    ready = true
    assert.equal((await call(app, 'GET', '/readyz')).status, 200)
  })

  test('under a supervisor /readyz describes every worker and is 200 only if all are ready', async () => {
    const s = service({ name: unique('workers'), apis: { a: api({ handler: () => 1 }) } })
    const app = toHono(s)
    await call(app, 'POST', '/a')
    let second = { ready: true, status: 'ready' }
    setGatherTransport(async (topic) => {
      assert.equal(topic, 'ready')
      return [
        { worker: 1, services: { [s.name]: { ready: true, status: 'ready' } } },
        { worker: 2, services: { [s.name]: second } },
      ]
    })
    setWorkerStatus('ready')
    try {
      const all = await call(app, 'GET', '/readyz')
      assert.equal(all.status, 200, all.text)
      expectSubset(all.json, {
        status: 'ready',
        workers: [
          { worker: 1, ready: true },
          { worker: 2, ready: true },
        ],
      })
      second = { ready: false, status: 'starting' }
      const one = await call(app, 'GET', '/readyz')
      assert.equal(one.status, 503)
      expectSubset(one.json, {
        status: 'not ready',
        workers: [
          { worker: 1, ready: true },
          { worker: 2, ready: false, status: 'starting' },
        ],
      })
    } finally {
      setGatherTransport(undefined)
      setWorkerStatus('starting')
    }
  })

  test('/healthz, /readyz and /metrics can be turned off', async () => {
    const s = service({ name: unique('bare'), apis: { a: api({ handler: () => 1 }) } })
    const app = toHono(s, { health: false, metrics: false, docs: false })
    for (const path of ['/livez', '/healthz', '/readyz', '/metrics', '/docs.json', '/']) {
      assert.equal((await call(app, 'GET', path)).status, 404, path)
    }
  })
})
