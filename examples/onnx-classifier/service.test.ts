import { existsSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { postJson, RUNTIMES, startBento } from '../../test/support/bento.ts'
import { buildModel } from './scripts/make-model.ts'

const cwd = fileURLToPath(new URL('.', import.meta.url))
const model = fileURLToPath(new URL('./model/model.onnx', import.meta.url))

beforeAll(() => {
  // `pnpm build` generates it; a test run straight after a clone may not have built yet.
  if (!existsSync(model))
    throw new Error(
      `${model} is missing: run \`pnpm --filter @bento/example-onnx-classifier build\``
    )
})

describe('the generated model', () => {
  it('is the same bytes on every run', () => {
    expect(Buffer.from(buildModel()).equals(Buffer.from(buildModel()))).toBe(true)
  })
})

describe.each(RUNTIMES)('onnx-classifier on %s', (runtime) => {
  it('classifies text with onnxruntime, one worker per CPU', async () => {
    const bento = startBento(runtime, ['serve', '--port', '0', '--host', '127.0.0.1'], { cwd })
    const url = await bento.url()
    const happy = await postJson(`${url}/classify`, {
      text: 'I love it, the best lunch I have had. Great!',
    })
    expect(happy.status).toBe(200)
    expect(happy.body.label).toBe('positive')
    expect(happy.body.scores.positive).toBeGreaterThan(0.9)
    const sad = await postJson(`${url}/classify`, {
      text: 'Terrible service, slow and rude. I want a refund.',
    })
    expect(sad.body.label).toBe('negative')
    expect(sad.body.scores.negative).toBeGreaterThan(0.9)
    const sum = sad.body.scores.positive + sad.body.scores.negative
    expect(sum).toBeCloseTo(1, 5)
    const many = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        postJson(`${url}/classify`, { text: i % 2 ? 'awful' : 'wonderful' })
      )
    )
    expect(many.map((r) => r.body.label)).toEqual(
      Array.from({ length: 20 }, (_, i) => (i % 2 ? 'negative' : 'positive'))
    )
    expect((await postJson(`${url}/classify`, { text: '' })).status).toBe(400)
    expect((await bento.stop()).code).toBe(0)
  })
})
