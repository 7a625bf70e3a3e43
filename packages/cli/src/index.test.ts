// `bento` names every type a service file writes: typed here as a user would, checked by the
// repo's typecheck and at run time.
import { describe, expect, it } from 'vitest'
import { type Autoscaling, api, type Deploy, service, type Tracing } from './index.ts'

describe('bento', () => {
  it('exports the types of a service’s deploy and tracing sections', () => {
    const autoscaling: Autoscaling = { maxReplicas: 4 }
    const deploy: Deploy = { replicas: 2, autoscaling }
    const tracing: Tracing = { sampleRate: 0.5 }
    const made = service({
      name: 'typed',
      deploy,
      tracing,
      apis: { ping: api({ handler: () => 'pong' }) },
    })
    expect(made.settings.deploy.replicas).toBe(2)
    expect(made.settings.tracing.sampleRate).toBe(0.5)
  })
})
