import { fileURLToPath } from 'node:url'
import { api, service } from 'bento'
import * as ort from 'onnxruntime-node'
import { z } from 'zod'
import { FEATURES, featurize, LABELS } from './features.ts'

const MODEL = fileURLToPath(new URL('./model/model.onnx', import.meta.url))

interface State {
  session: ort.InferenceSession
}

const Scores = z.object({ positive: z.number(), negative: z.number() })

export default service<State>({
  name: 'onnx-classifier',
  // One worker per CPU, each running the model on one thread: requests run side by side.
  workers: 'cpu_count',
  // Each worker holds its own copy of the model (32 MiB of weights plus onnxruntime).
  workerMemory: '200Mi',
  // onnxruntime-node is a native addon: on Deno, a worker may load it only with FFI allowed.
  deno: { allow: ['--allow-ffi'] },
  async onStartup(worker) {
    const session = await ort.InferenceSession.create(MODEL, {
      intraOpNumThreads: worker.threads,
      interOpNumThreads: 1,
    }).catch((error: Error) => {
      throw new Error(
        `cannot load ${MODEL}: ${error.message}. Generate it with \`pnpm --filter @bento/example-onnx-classifier build\``
      )
    })
    return { session }
  },
  async onShutdown({ state }) {
    await state.session.release()
  },
  apis: {
    classify: api({
      description: 'The sentiment of a text: positive or negative, with both scores.',
      batchable: true,
      maxBatchSize: 32,
      maxLatencyMs: 100,
      input: z.object({ text: z.string().min(1).max(10_000) }),
      output: z.object({ label: z.enum(LABELS), scores: Scores }),
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
          const label = positive >= negative ? ('positive' as const) : ('negative' as const)
          return { label, scores: { positive, negative } }
        })
      },
    }),
  },
})
