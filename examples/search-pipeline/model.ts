// The model tier: the sentiment model of the onnx-classifier example (its file, its features),
// served as a service of its own. `classifier()` makes it for CPUs or for GPUs: the graph decides
// how many workers it runs, by the model-runner rule of the seeds, apart from the API tier.
import { fileURLToPath } from 'node:url'
import { api, type Resources, service } from 'bento'
import * as ort from 'onnxruntime-node'
import { z } from 'zod'
import { FEATURES, featurize, type LABELS } from '../onnx-classifier/features.ts'

const MODEL = fileURLToPath(new URL('../onnx-classifier/model/model.onnx', import.meta.url))

interface State {
  session: ort.InferenceSession
}

/**
 * The classifier as a service: `({ cpu: 1 }, 2)` runs ceil(1) x 2 workers on CPUs, `({ gpu: 2 })`
 * ceil(2 x 1), one worker per GPU, each pinned to its own device.
 */
export function classifier(resources: Resources, workersPerResource = 1) {
  return service({
    name: 'classifier',
    resources,
    workersPerResource,
    workerMemory: '200Mi',
    // onnxruntime-node is a native addon: on Deno, loading it needs FFI.
    deno: { allow: ['--allow-ffi'] },
    async onStartup(worker) {
      const session = await ort.InferenceSession.create(MODEL, {
        intraOpNumThreads: 1,
        interOpNumThreads: 1,
      }).catch((error: Error) => {
        throw new Error(
          `cannot load ${MODEL}: ${error.message}. Generate it with \`pnpm --filter @bento/example-onnx-classifier build\``
        )
      })
      if (worker.gpus.length > 0) console.log(`worker ${worker.workerIndex} owns ${worker.gpus[0]}`)
      return { session }
    },
    async onShutdown({ state }) {
      await state.session.release()
    },
    apis: {
      classify: api({
        description: 'The sentiment of a text, and which device of which worker said so.',
        // Calls from every API worker that arrive together run as one batch.
        batchable: true,
        maxBatchSize: 32,
        maxLatencyMs: 10,
        input: z.object({ text: z.string().min(1).max(10_000) }),
        async handler(inputs, ctx) {
          const { session } = ctx.state as State
          const features = new Float32Array(inputs.length * FEATURES)
          inputs.forEach(({ text }, i) => {
            featurize(text, features.subarray(i * FEATURES, (i + 1) * FEATURES))
          })
          const tensor = new ort.Tensor('float32', features, [inputs.length, FEATURES])
          const { probabilities } = await session.run({ features: tensor })
          const values = probabilities!.data as Float32Array
          return inputs.map((_, i) => {
            const positive = values[i * 2]!
            const negative = values[i * 2 + 1]!
            const label: (typeof LABELS)[number] = positive >= negative ? 'positive' : 'negative'
            return {
              label,
              score: Math.max(positive, negative),
              worker: ctx.workerIndex,
              device: ctx.gpus[0] ?? 'cpu',
            }
          })
        },
      }),
    },
  })
}
